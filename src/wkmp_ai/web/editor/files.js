// The file list: filters, search, paging; tells the editor which file to open.
"use strict";

import { $, baseName, el, request } from "./api.js";

const PAGE = 100;
const STATUS_TEXT = {
  identified: "identified", partial: "partly identified", no_match: "no match", pending: "pending",
  analysed: "analysed", failed: "failed", not_analysed: "not analysed",
};

export class FileList {
  constructor(onOpen) {
    this.onOpen = onOpen;
    this.offset = 0;
    this.selected = null;
    this.timer = null;
    $("filter").addEventListener("change", () => this.load(true));
    $("search").addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load(true), 250);
    });
    $("more").addEventListener("click", () => this.load(false));
  }

  async load(reset) {
    if (reset) this.offset = 0;
    const params = new URLSearchParams({ filter: $("filter").value, offset: this.offset, limit: PAGE });
    const q = $("search").value.trim();
    if (q) params.set("q", q);
    const answer = await request("GET", `/files?${params}`);
    const list = $("file-list");
    if (!answer.ok) {
      $("file-count").textContent = answer.body.message || "The files cannot be listed.";
      return;
    }
    if (reset) list.replaceChildren();
    for (const file of answer.body.files) list.append(this.item(file));
    this.offset += answer.body.files.length;
    const total = answer.body.total;
    $("file-count").textContent = total === 1 ? "1 file" : `${total} files`;
    $("more").hidden = this.offset >= total;
    this.mark();
  }

  item(file) {
    const { name, folder } = baseName(file.path);
    const flags = [];
    if (file.passages > 1) flags.push(`${file.passages} passages`);
    flags.push(STATUS_TEXT[file.status] || file.status);
    if (file.low_confidence) flags.push("unsure");
    if (file.edited) flags.push("edited");
    const button = el(
      "button",
      { type: "button", class: "file", "data-id": file.id, title: file.path, onclick: () => this.onOpen(file.id) },
      el("span", { class: "name", text: name }),
      el("span", { class: "folder", text: folder || "(root folder)" }),
      el("span", { class: `flags status-${file.status}`, text: flags.join(" · ") }),
    );
    return el("li", {}, button);
  }

  select(id) {
    this.selected = id;
    this.mark();
  }

  mark() {
    for (const button of $("file-list").querySelectorAll("button.file")) {
      if (button.dataset.id === this.selected) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }
}
