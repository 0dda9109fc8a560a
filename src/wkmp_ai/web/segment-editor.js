// The segment editor (/segment-editor?file=ID): a file's waveform with its passages as regions;
// drag, split, merge, delete, set lead points, assign recordings, undo/redo, save.
"use strict";

import WaveSurfer from "./vendor/wavesurfer/wavesurfer.esm.js";
import RegionsPlugin from "./vendor/wavesurfer/regions.esm.js";
import { $, el, request } from "./editor/api.js";
import { FileList } from "./editor/files.js";
import * as M from "./editor/model.js";
import { Releases } from "./editor/releases.js";

const COLORS = ["rgba(44, 111, 187, 0.13)", "rgba(0, 150, 136, 0.13)"];
const CURRENT = "rgba(44, 111, 187, 0.32)";
const LEAD_IN = "rgba(46, 160, 67, 0.95)";
const LEAD_OUT = "rgba(219, 109, 40, 0.95)";
const IDENT_TEXT = { identified: "identified", no_match: "no match", pending: "pending", not_identified: "not identified" };
const METHOD_TEXT = {
  user: "chosen by hand", "user-release": "release chosen by hand", acoustid: "by fingerprint", tags: "by its tags",
  "release-tags": "by track number", "release-title": "by title", "release-order": "by track order",
  tag_search: "by a tag search", name_search: "by file names", disc_id: "by the disc's Disc ID",
};
// Where a passage's boundaries came from (docs/cue.md, docs/editor.md).
const BOUNDARY_TEXT = {
  user: "boundaries by hand", silence: "split at silence", cue: "from the cue sheet",
  embedded_cue: "from the embedded cue sheet", flac_cuesheet: "from the FLAC cue sheet", chapters: "from chapters",
};

class Editor {
  constructor() {
    this.file = null;
    this.T = 28224000;
    this.ws = null;
    this.regions = null;
    this.ready = false;
    this.history = new M.History([]);
    this.current = -1;
    this.minLength = 0;
    this.files = new FileList((id) => this.open(id));
    this.releases = new Releases(this);
    this.wire();
  }

  say(text) { $("status").textContent = text; }

  wire() {
    const on = (id, fn) => $(id).addEventListener("click", fn);
    on("play", () => this.ws?.playPause());
    on("play-passage", () => this.playPassage());
    on("split", () => this.split());
    on("merge", () => this.edit(M.mergeNext(this.passages, this.here()), "Merged with the next passage."));
    on("delete", () => this.edit(M.remove(this.passages, this.here()), "Passage deleted."));
    on("boundary", () => this.boundaryToCursor());
    on("lead-in", () => this.lead("in"));
    on("lead-out", () => this.lead("out"));
    on("undo", () => this.commit(this.history.undo()));
    on("redo", () => this.commit(this.history.redo()));
    on("save", () => this.save());
    $("zoom").addEventListener("input", () => this.ws?.zoom(Number($("zoom").value)));
    document.addEventListener("keydown", (e) => this.key(e));
    window.addEventListener("beforeunload", (e) => {
      if (this.history.dirty) { e.preventDefault(); e.returnValue = ""; }
    });
  }

  get passages() { return this.history.current; }

  time() { return this.ws ? this.ws.getCurrentTime() : 0; }

  // wavesurfer 8 keeps a time asked for while the audio cannot play yet (as during a seek) as
  // "pending", and the "seeking" event of the seek before drops it: of two quick arrow presses, the
  // second was lost. The audio element itself takes a new time as soon as it knows its duration.
  seek(t) {
    const media = this.ws?.getMediaElement();
    if (media && media.readyState >= HTMLMediaElement.HAVE_METADATA && this.ws.getCurrentTime() === media.currentTime) {
      media.currentTime = t;
    } else {
      this.ws?.setTime(t);
    }
  }

  here() { return M.indexAt(this.passages, this.time()); }

  async open(id) {
    if (this.file && id === this.file.id) return;
    if (this.history.dirty && !window.confirm("Your changes to this file are not saved. Leave them?")) return;
    this.files.select(id);
    this.say("Loading…");
    const [file, peaks] = await Promise.all([request("GET", `/files/${id}`), request("GET", `/files/${id}/peaks`)]);
    if (!file.ok) { this.say(file.body.message || "This file cannot be opened."); return; }
    history.replaceState(null, "", `/segment-editor?file=${encodeURIComponent(id)}`);
    this.show(file.body, peaks.ok ? peaks.body : null);
    if (!peaks.ok) this.say(peaks.body.message || "The waveform cannot be drawn.");
    else this.say("");
    this.releases.load(id);
  }

  show(file, peaks) {
    const fresh = !this.file || this.file.id !== file.id;
    this.file = file;
    this.T = file.ticks_per_second;
    $("empty").hidden = true;
    $("file-panel").hidden = false;
    $("file-title").textContent = file.path.split("/").pop();
    const facts = [file.path, M.fmt(file.duration_s), file.format,
      file.edited ? "edited by hand" : null,
      file.changed_on_disk ? "the file changed on disk since it was edited" : null].filter(Boolean);
    $("file-meta").textContent = facts.join(" · ");
    this.history.reset(M.fromFile(file));
    $("problems").hidden = true;
    $("clock").textContent = `${M.fmt(this.time())} / ${M.fmt(file.duration_s)}`;
    if (fresh || !this.ws) this.waveform(file, peaks);
    else this.commit(this.passages);
  }

  waveform(file, peaks) {
    this.ws?.destroy();
    this.regions = RegionsPlugin.create();
    const data = peaks ? [peaks.max, peaks.min] : [[0], [0]];
    this.ws = WaveSurfer.create({
      container: $("waveform"), height: 180, normalize: true,
      waveColor: "#8b98ab", progressColor: "#4a6587", cursorColor: "#d32f2f", cursorWidth: 2,
      url: `/files/${file.id}/audio`, peaks: data, duration: peaks ? peaks.duration_s : file.duration_s,
      minPxPerSec: Number($("zoom").value), dragToSeek: true, autoScroll: true, autoCenter: false,
      plugins: [this.regions],
    });
    this.ready = false;
    const ready = () => { if (!this.ready) { this.ready = true; this.commit(this.passages); } };
    this.ws.on("decode", ready);
    this.ws.on("ready", ready);
    this.ws.on("timeupdate", () => this.tick());
    this.ws.on("interaction", () => this.tick());
    this.ws.on("play", () => { $("play").textContent = "❚❚ Pause"; });
    this.ws.on("pause", () => { $("play").textContent = "▶ Play"; });
    this.ws.on("error", () => this.say("The browser cannot play this file; editing still works."));
    this.regions.on("region-update", (region, side) => this.dragging(region, side));
    this.regions.on("region-updated", (region, side) => this.dragged(region, side));
    this.commit(this.passages);
  }

  tick() {
    const t = this.time();
    $("clock").textContent = `${M.fmt(t)} / ${M.fmt(this.file?.duration_s)}`;
    const i = this.here();
    if (i !== this.current) { this.current = i; this.paint(); }
  }

  // Draw the model: regions for passages, markers for lead points; the table; the buttons.
  commit(passages) {
    if (!this.regions || !this.ready) {  // regions need the waveform's duration: drawn once it is ready
      this.renderTable();
      this.buttons();
      return;
    }
    this.regions.clearRegions();
    passages.forEach((p, i) => {
      this.regions.addRegion({
        id: `p${i}`, start: p.start, end: p.end, drag: false, resize: true, minLength: 0.05,
        color: i === this.current ? CURRENT : COLORS[i % 2], content: this.label(p, i),
      });
      if (p.leadIn !== null) this.regions.addRegion({ id: `in${i}`, start: p.leadIn, color: LEAD_IN, drag: true, resize: false });
      if (p.leadOut !== null) this.regions.addRegion({ id: `out${i}`, start: p.leadOut, color: LEAD_OUT, drag: true, resize: false });
    });
    this.renderTable();
    this.buttons();
  }

  label(p, i) {
    const text = `${i + 1} · ${p.title || "untitled"}`;
    const node = el("div", { class: "region-label", text, title: text });
    Object.assign(node.style, {
      font: "600 12px system-ui, sans-serif", padding: "2px 6px", margin: "2px", borderRadius: "3px",
      background: "rgba(255,255,255,0.85)", color: "#1b2430", whiteSpace: "nowrap", overflow: "hidden",
      textOverflow: "ellipsis", maxWidth: "calc(100% - 8px)", pointerEvents: "none",
    });
    return node;
  }

  paint() {
    for (const region of this.regions?.getRegions() || []) {
      const m = /^p(\d+)$/.exec(region.id);
      if (m) region.setOptions({ color: Number(m[1]) === this.current ? CURRENT : COLORS[Number(m[1]) % 2] });
    }
    for (const row of $("passages").tBodies[0].rows) {
      if (Number(row.dataset.index) === this.current) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
  }

  buttons() {
    const i = this.here();
    $("undo").disabled = !this.history.past.length;
    $("redo").disabled = !this.history.future.length;
    $("save").disabled = !this.history.dirty;
    $("merge").disabled = i < 0 || i + 1 >= this.passages.length;
    $("delete").disabled = i < 0 || this.passages.length <= 1;
    $("save").textContent = this.history.dirty ? "Save changes" : "Saved";
  }

  // While a boundary is dragged, a boundary it shares with a neighbour follows it.
  dragging(region, side) {
    const m = /^p(\d+)$/.exec(region.id);
    if (!m || !side) return;
    const i = Number(m[1]);
    const next = M.moveEdge(this.passages, i, side, side === "start" ? region.start : region.end);
    const j = side === "start" ? i - 1 : i + 1;
    const neighbour = this.regions.getRegions().find((r) => r.id === `p${j}`);
    if (neighbour && next[j]) neighbour.setOptions({ start: next[j].start, end: next[j].end });
  }

  dragged(region, side) {
    let m = /^p(\d+)$/.exec(region.id);
    if (m && side) {
      const t = side === "start" ? region.start : region.end;
      this.edit(M.moveEdge(this.passages, Number(m[1]), side, t), `Boundary moved to ${M.fmt(t)}.`);
      return;
    }
    m = /^(in|out)(\d+)$/.exec(region.id);
    if (m) this.edit(M.setLead(this.passages, Number(m[2]), m[1], region.start), `Lead-${m[1]} point set.`, true);
  }

  edit(next, message, redrawOnFail = false) {
    if (!next) {
      this.say("That edit is not possible here.");
      if (redrawOnFail) this.commit(this.passages);
      return;
    }
    this.commit(this.history.apply(next));
    this.say(message);
  }

  split() {
    const t = this.time();
    this.edit(M.split(this.passages, t), `Split at ${M.fmt(t)}.`);
  }

  boundaryToCursor() {
    const t = this.time();
    const edge = M.nearestEdge(this.passages, t);
    if (edge) this.edit(M.moveEdge(this.passages, edge[0], edge[1], t), `Boundary moved to ${M.fmt(t)}.`);
  }

  lead(which) {
    const i = this.here();
    this.edit(i < 0 ? null : M.setLead(this.passages, i, which, this.time()), `Lead-${which} point set.`);
  }

  playPassage() {
    const i = this.here();
    const region = this.regions?.getRegions().find((r) => r.id === `p${i}`);
    if (region) region.play(true);
  }

  renderTable() {
    const body = $("passages").tBodies[0];
    const tracks = this.releases.tracks();
    body.replaceChildren(...this.passages.map((p, i) => this.row(p, i, tracks)));
    this.paint();
  }

  row(p, i, tracks) {
    const number = (label, value, onchange) =>
      el("input", { type: "number", step: "0.01", min: "0", value: value === null ? "" : value.toFixed(2),
        placeholder: value === null ? "on save" : null, title: value === null ? "measured when you save" : null,
        "aria-label": `${label} of passage ${i + 1}, seconds`, onchange: (e) => onchange(Number(e.target.value)) });
    const seconds = (t) => (t >= 60 ? el("span", { class: "muted time", text: M.fmt(t) }) : null);
    const choose = el("select", { "aria-label": `Recording of passage ${i + 1}`, onchange: (e) => this.assign(i, e.target) },
      el("option", { value: "", text: p.recording ? `(${p.title || "current"})` : "(none)", selected: true }),
      ...tracks.map((t) => el("option", { value: t.recording_mbid, text: `${t.position}. ${t.title}`,
        selected: t.recording_mbid === p.recording })));
    const id = p.identification || { status: p.id ? "not_identified" : "pending" };
    const ident = [IDENT_TEXT[id.status] || id.status, METHOD_TEXT[id.method] || id.method, id.score !== null && id.score !== undefined ? `${Math.round(id.score * 100)} %` : null,
      BOUNDARY_TEXT[p.source] || "split at silence"].filter(Boolean).join(" · ");
    const short = p.end - p.start < this.minLength;
    return el("tr", { "data-index": i, class: short ? "short" : null },
      el("th", { scope: "row", text: String(i + 1) }),
      el("td", {}, number("Start", p.start, (v) => this.edit(M.moveEdge(this.passages, i, "start", v), "Start changed.")), seconds(p.start)),
      el("td", {}, number("End", p.end, (v) => this.edit(M.moveEdge(this.passages, i, "end", v), "End changed.")), seconds(p.end)),
      el("td", {}, number("Lead-in", p.leadIn, (v) => this.edit(M.setLead(this.passages, i, "in", v), "Lead-in set.", true))),
      el("td", {}, number("Lead-out", p.leadOut, (v) => this.edit(M.setLead(this.passages, i, "out", v), "Lead-out set.", true))),
      el("td", { class: "recording" }, el("div", { class: "title", text: [p.title, p.artist].filter(Boolean).join(" — ") || "untitled" }), choose),
      el("td", { class: `ident ident-${id.status}`, text: ident + (short ? " · shorter than the minimum" : "") }),
    );
  }

  assign(i, select) {
    if (!select.value) return;
    const track = this.releases.tracks().find((t) => t.recording_mbid === select.value);
    this.edit(M.assign(this.passages, i, select.value, track?.title), `Passage ${i + 1} will be “${track?.title}”.`);
  }

  async save() {
    if (!this.history.dirty) return;
    $("save").disabled = true;
    this.say("Saving… (passages whose boundaries moved are measured again)");
    const answer = await request("PUT", `/files/${this.file.id}/passages`, M.body(this.passages, this.T));
    if (!answer.ok) {
      const problems = answer.body.errors || [{ message: answer.body.message }];
      $("problems").replaceChildren(el("p", { text: "Nothing was saved:" }),
        el("ul", {}, ...problems.map((p) => el("li", { text: p.message }))));
      $("problems").hidden = false;
      this.say("");
      this.buttons();
      return;
    }
    $("problems").hidden = true;
    this.show(answer.body);
    const pending = answer.body.passages.some((p) => p.identification.status !== "identified");
    this.say(pending ? "Saved. Passages whose boundaries moved are being identified again." : "Saved.");
    this.files.load(true);
    if (pending) setTimeout(() => this.refresh(), 4000);
  }

  async refresh() {
    if (!this.file || this.history.dirty) return;
    const answer = await request("GET", `/files/${this.file.id}`);
    if (answer.ok && !this.history.dirty && answer.body.id === this.file.id) this.show(answer.body);
  }

  key(e) {
    if (!this.file) return;
    const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName) && e.target.type !== "range";
    const ctrl = e.ctrlKey || e.metaKey;
    if (ctrl && e.key.toLowerCase() === "s") { e.preventDefault(); this.save(); return; }
    if (typing) return;
    if (ctrl && e.key.toLowerCase() === "z") { e.preventDefault(); this.commit(e.shiftKey ? this.history.redo() : this.history.undo()); return; }
    if (ctrl && e.key.toLowerCase() === "y") { e.preventDefault(); this.commit(this.history.redo()); return; }
    if (ctrl || e.altKey) return;
    const step = e.shiftKey ? 10 : 1;
    const actions = {
      " ": () => this.ws?.playPause(), p: () => this.playPassage(), s: () => this.split(),
      m: () => $("merge").click(), Delete: () => $("delete").click(), b: () => this.boundaryToCursor(),
      i: () => this.lead("in"), o: () => this.lead("out"),
      ArrowLeft: () => this.seek(Math.max(0, this.time() - step)),
      ArrowRight: () => this.seek(Math.min(this.file.duration_s, this.time() + step)),
      "+": () => this.zoom(25), "=": () => this.zoom(25), "-": () => this.zoom(-25),
    };
    const action = actions[e.key] || actions[e.key.toLowerCase()];
    if (!action || (e.key === " " && e.target.tagName === "BUTTON")) return;
    e.preventDefault();
    action();
    this.tick();
  }

  zoom(delta) {
    const zoom = $("zoom");
    zoom.value = String(Math.min(300, Math.max(0, Number(zoom.value) + delta)));
    this.ws?.zoom(Number(zoom.value));
  }
}

const editor = new Editor();
window.segmentEditor = editor; // for the browser tests and the curious
request("GET", "/parameters/global").then((answer) => {
  if (answer.ok) editor.minLength = answer.body.min_passage_duration_s || 0;
});
editor.files.load(true);
const wanted = new URLSearchParams(location.search).get("file");
if (wanted) editor.open(wanted);
