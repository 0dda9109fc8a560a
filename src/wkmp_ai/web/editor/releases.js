// The release panel: candidate releases with their track lists; choosing one re-pairs the passages.
"use strict";

import { $, el, request } from "./api.js";
import { fmt } from "./model.js";

export class Releases {
  constructor(editor) {
    this.editor = editor;
    this.releases = [];
    this.fileId = null;
    $("use-release").addEventListener("click", () => this.use());
    $("release-options").addEventListener("change", () => this.editor.renderTable());
  }

  async load(fileId) {
    this.fileId = fileId;
    this.releases = [];
    $("release-choice").hidden = true;
    $("releases-status").textContent = "Looking up the candidate releases (this may ask MusicBrainz)…";
    const answer = await request("GET", `/files/${fileId}/releases`);
    if (fileId !== this.fileId) return;
    if (!answer.ok) {
      $("releases-status").textContent = answer.body.message || "The candidate releases cannot be read.";
      return;
    }
    this.releases = answer.body.releases;
    this.searched = answer.body.searched;
    this.render();
    this.editor.renderTable();
  }

  render() {
    const box = $("release-options");
    box.replaceChildren();
    if (!this.releases.length) {
      $("releases-status").textContent = this.searched
        ? "MusicBrainz knows no release that fits this file's tags and names (or cannot be reached just now)."
        : "No release is known for this file yet.";
      return;
    }
    const current = this.releases.find((r) => r.current) || this.releases.find((r) => r.chosen) || this.releases[0];
    $("releases-status").textContent = current.current
      ? `Identified as “${current.title || current.release_mbid}”.`
      : "Identification was not sure which release this is: pick the right one.";
    this.releases.forEach((r, i) => {
      const id = `release-${i}`;
      const facts = [r.artist, r.date, r.country, r.track_count ? `${r.track_count} tracks` : null,
        r.score !== null && r.score !== undefined ? `${Math.round(r.score * 100)} % sure` : null,
        r.current ? "current" : null].filter(Boolean).join(" · ");
      const tracks = r.tracks
        ? el("ol", { class: "tracks" }, ...r.tracks.map((t) => el("li", { text: `${t.title}${t.length_s ? ` (${fmt(t.length_s)})` : ""}` })))
        : el("p", { class: "muted", text: r.tracks_problem || "Track list unavailable." });
      box.append(
        el("div", { class: "release" },
          el("input", { type: "radio", name: "release", id, value: r.release_mbid, checked: r === current }),
          el("label", { for: id }, el("strong", { text: r.title || r.release_mbid }), el("span", { class: "muted", text: ` ${facts}` })),
          el("details", {}, el("summary", { text: "Track list" }), tracks)),
      );
    });
    $("release-choice").hidden = false;
  }

  selected() {
    const mbid = document.querySelector("input[name=release]:checked")?.value;
    return this.releases.find((r) => r.release_mbid === mbid) || null;
  }

  tracks() {
    return this.selected()?.tracks || [];
  }

  async use() {
    const release = this.selected();
    if (!release) return;
    if (this.editor.history.dirty) {
      this.editor.say("Save or undo your changes before choosing a release.");
      return;
    }
    this.editor.say(`Pairing the passages with the tracks of “${release.title}”…`);
    const answer = await request("POST", `/files/${this.fileId}/release`, {
      release_mbid: release.release_mbid, whole_folder: $("whole-folder").checked,
    });
    if (!answer.ok) {
      this.editor.say(answer.body.message || "The release could not be used.");
      return;
    }
    const paired = answer.body.files.reduce((n, f) => n + f.paired, 0);
    const unpaired = answer.body.files.reduce((n, f) => n + f.unpaired, 0);
    this.editor.show(answer.body.file);
    this.editor.say(`Paired ${paired} passage${paired === 1 ? "" : "s"} with “${answer.body.title}”` +
      (unpaired ? `; ${unpaired} found no track.` : "."));
    this.editor.files.load(true);
    this.load(this.fileId);
  }
}
