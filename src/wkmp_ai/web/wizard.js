// The import wizard: pick a folder, set the parameters, see the services, start; previous imports.
import { $, api, el, fmtInt, fmtWhen, folderLabel, plural, stateBadge } from "./common.js";

let current = ""; // the folder shown in the browser, relative to the root: what Start imports
let currentCount = null;
let recount = null;
let schema = null;
let activeId = null;

// ---- 1. folder browser ---------------------------------------------------------------------
function countText(n) {
  return n === null ? "scanning…" : n === 0 ? "no audio files" : plural(n, "audio file");
}

function renderCrumbs(path) {
  const parts = path ? path.split("/") : [];
  const items = [["Music folder", ""], ...parts.map((name, i) => [name, parts.slice(0, i + 1).join("/")])];
  $("crumbs").replaceChildren(
    ...items.map(([name, target], i) => {
      const last = i === items.length - 1;
      return el("li", {}, last
        ? el("span", { "aria-current": "page", text: name })
        : el("button", { type: "button", text: name, onclick: () => browse(target) }));
    }),
  );
}

function renderSelection() {
  const what = el("span", {}, "Import ", el("strong", { class: "path", text: folderLabel(current) }),
    ` — ${countText(currentCount)}`);
  $("selected").replaceChildren(what);
  $("start-what").replaceChildren(what.cloneNode(true));
  $("folder").value = current;
}

async function browse(path, { focusList = false } = {}) {
  clearTimeout(recount);
  $("start").disabled = true; // until the folder Start would import is the one shown
  $("folders").setAttribute("aria-busy", "true");
  const reply = await api(`/folders?path=${encodeURIComponent(path)}`);
  $("start").disabled = Boolean(activeId);
  if (!reply.ok) {
    $("folders").setAttribute("aria-busy", "false");
    $("folder-error").textContent = reply.data.message || `The folder cannot be shown (error ${reply.status}).`;
    $("folder-error").hidden = false;
    $("folder").setAttribute("aria-invalid", "true");
    return;
  }
  $("folder-error").hidden = true;
  $("folder").removeAttribute("aria-invalid");
  const listing = reply.data;
  current = listing.path;
  currentCount = listing.audio_files;
  renderCrumbs(current);
  renderSelection();
  const list = $("folders");
  list.replaceChildren(
    ...(listing.folders.length
      ? listing.folders.map((f) =>
        el("li", {}, el("button", {
          type: "button",
          "aria-label": `${f.name}, ${countText(f.audio_files)}`,
          onclick: () => browse(f.path, { focusList: true }),
        }, el("span", { class: "name", text: f.name }), el("span", { class: "count", text: countText(f.audio_files) }))))
      : [el("li", { class: "empty", text: "No sub-folders here." })]),
  );
  list.setAttribute("aria-busy", "false");
  if (focusList) (list.querySelector("button") || $("start")).focus();
  const unknown = listing.audio_files === null || listing.folders.some((f) => f.audio_files === null);
  if (unknown) recount = setTimeout(() => refreshCounts(listing.path), 1000);
}

async function refreshCounts(path) {
  if (path !== current) return;
  const reply = await api(`/folders?path=${encodeURIComponent(path)}`);
  if (!reply.ok || path !== current) return;
  currentCount = reply.data.audio_files;
  renderSelection();
  const counts = new Map(reply.data.folders.map((f) => [f.name, f.audio_files]));
  for (const button of $("folders").querySelectorAll("button")) {
    const name = button.querySelector(".name").textContent;
    if (!counts.has(name)) continue;
    button.querySelector(".count").textContent = countText(counts.get(name));
    button.setAttribute("aria-label", `${name}, ${countText(counts.get(name))}`);
  }
  const unknown = reply.data.audio_files === null || reply.data.folders.some((f) => f.audio_files === null);
  if (unknown) recount = setTimeout(() => refreshCounts(path), 1000);
}

$("path-form").addEventListener("submit", (event) => {
  event.preventDefault();
  browse($("folder").value.trim());
});

// ---- 2. parameters -------------------------------------------------------------------------
function rangeText(p) {
  if (p.minimum === null || p.maximum === null) return "";
  return `${p.minimum} to ${p.maximum}${p.unit ? ` ${p.unit}` : ""}`;
}

function renderParams() {
  const rows = schema.parameters
    .filter((p) => p.name !== "source_media")
    .map((p) => {
      const id = `p-${p.name}`;
      let input;
      if (p.type === "boolean") {
        input = el("input", { type: "checkbox", id, name: p.name, "aria-describedby": `${id}-help ${id}-msg` });
      } else {
        input = el("input", {
          type: "number", id, name: p.name, step: String(p.step ?? "any"),
          min: p.minimum ?? undefined, max: p.maximum ?? undefined, inputmode: "decimal",
          "aria-describedby": `${id}-help ${id}-msg`,
        });
      }
      input.addEventListener("change", () => saveOne(p, input));
      const range = rangeText(p);
      return el("div", { class: "param" },
        el("label", { for: id, text: p.label }),
        el("div", { class: "input" }, input, p.unit && p.type !== "boolean" ? el("span", { class: "muted small", text: p.unit }) : null),
        el("div", { class: "help", id: `${id}-help` }, p.description, range ? ` Range ${range}; default ${p.default}.` : ""),
        el("div", { class: "msg error", id: `${id}-msg`, role: "alert" }));
    });
  $("params").replaceChildren(...rows);
  $("source-media").replaceChildren(...schema.source_media.map((m) =>
    el("option", { value: m.name, text: `${m.label} (silence below ${m.silence_threshold_db} dB)` })));
  $("preset").append(...schema.genre_presets.map((g) => el("option", { value: g.name, text: g.label })));
}

function showValues(values) {
  for (const p of schema.parameters) {
    if (p.name === "source_media") { $("source-media").value = values.source_media; continue; }
    const input = $(`p-${p.name}`);
    if (p.type === "boolean") input.checked = Boolean(values[p.name]);
    else input.value = values[p.name];
    input.removeAttribute("aria-invalid");
    $(`p-${p.name}-msg`).textContent = "";
  }
}

function readValue(p, input) {
  if (p.type === "boolean") return input.checked;
  const text = input.value.trim();
  if (input.validity.badInput || text === "") return input.validity.badInput ? "not a number" : "";
  return Number(text);
}

async function save(update, what) {
  $("save-state").textContent = "Saving…";
  const reply = await api("/parameters/global", { method: "POST", body: update });
  if (!reply.ok) {
    const errors = reply.data.errors || {};
    for (const [key, message] of Object.entries(errors)) {
      const input = $(`p-${key}`) || (key === "source_media" ? $("source-media") : null);
      if (input) input.setAttribute("aria-invalid", "true");
      const box = $(`p-${key}-msg`);
      if (box) box.textContent = message;
    }
    $("save-state").textContent = "Not saved: " + (reply.data.message || `error ${reply.status}`);
    $("save-state").className = "save-state error";
    return false;
  }
  showValues(reply.data.parameters);
  $("save-state").textContent = `${what} — saved.`;
  $("save-state").className = "save-state ok";
  return true;
}

function saveOne(p, input) {
  return save({ [p.name]: readValue(p, input) }, `${p.label} set`);
}

$("source-media").addEventListener("change", () => {
  const media = schema.source_media.find((m) => m.name === $("source-media").value);
  save({ source_media: media.name }, `Source media: ${media.label}`);
});
$("preset").addEventListener("change", async () => {
  const preset = schema.genre_presets.find((g) => g.name === $("preset").value);
  if (!preset) return;
  await save(preset.values, `${preset.label} preset applied`);
  $("preset").value = "";
});
$("reset").addEventListener("click", () => save(schema.defaults, "Every parameter reset to its default"));

// ---- 3. services ---------------------------------------------------------------------------
const SERVICE_NAMES = {
  acoustid: "AcoustID (fingerprints)", musicbrainz: "MusicBrainz (albums, tracks)",
  acousticbrainz: "AcousticBrainz (musical flavor)", coverart: "Cover Art Archive",
};

async function loadServices() {
  const reply = await api("/services/status");
  if (!reply.ok) return;
  const list = $("services");
  list.replaceChildren(...Object.entries(SERVICE_NAMES).map(([name, label]) => {
    const s = reply.data[name];
    const [cls, word] = s.reachable === true ? ["up", "reachable"] : s.reachable === false ? ["down", "not reachable"] : ["", "checking…"];
    return el("li", { "data-service": name },
      el("span", { class: `dot ${cls}`, "aria-hidden": "true" }),
      el("span", {}, el("strong", { text: label }), " — ",
        el("span", { class: cls === "down" ? "error" : cls === "up" ? "ok" : "", text: word }),
        el("span", { class: "small muted", text: ` · at most ${s.rate_per_s} request${s.rate_per_s === 1 ? "" : "s"}/s` })));
  }));
  list.setAttribute("aria-busy", "false");
  const key = $("key-note");
  key.hidden = false;
  if (reply.data.acoustid.api_key_set) {
    key.className = "small ok";
    key.textContent = "An AcoustID key is set: tracks are identified by their sound.";
  } else {
    key.className = "small warn";
    key.textContent = "No AcoustID key is set: tracks are identified by their tags only. " +
      "Set ACOUSTID_API_KEY (or acoustid_api_key in wkmp-ai.toml) and restart wkmp-ai to identify them by sound.";
  }
  if (Object.values(reply.data).some((s) => s.reachable === null)) setTimeout(loadServices, 1500);
}

// ---- 4. start, running import, history -----------------------------------------------------
function showActive(active) {
  activeId = active ? active.session_id : null;
  $("running").hidden = !active;
  $("start").disabled = Boolean(active);
  $("start").textContent = active ? "An import is running" : "Start import";
  if (active) {
    $("running-what").textContent = active.state === "SCANNING" ? "scanning" : "importing";
    $("running-link").href = `/import-progress?session_id=${encodeURIComponent(active.session_id)}`;
  }
}

$("start").addEventListener("click", async () => {
  $("start-error").hidden = true;
  $("start").disabled = true;
  const reply = await api("/import/start", { method: "POST", body: current ? { root_folder: current } : {} });
  if (reply.ok) {
    location.href = `/import-progress?session_id=${encodeURIComponent(reply.data.session_id)}`;
    return;
  }
  $("start-error").textContent = reply.data.message || reply.data.error || `The import could not start (error ${reply.status}).`;
  $("start-error").hidden = false;
  if (reply.data.active_session_id) showActive({ session_id: reply.data.active_session_id, state: "PROCESSING" });
  else $("start").disabled = false;
});

function needAttention(entry) {
  const a = entry.attention;
  if (!a) return null;
  return ["partial", "pending", "no_match", "failed", "skipped"].reduce((n, k) => n + (a[k]?.count || 0), 0);
}

async function loadHistory() {
  const reply = await api("/import/history?limit=10");
  if (!reply.ok) return;
  const imports = reply.data.imports;
  $("history-empty").hidden = imports.length > 0;
  $("history").hidden = imports.length === 0;
  $("history").tBodies[0].replaceChildren(...imports.map((entry) => {
    const s = entry.summary || {};
    const attention = needAttention(entry);
    return el("tr", {},
      el("td", { text: fmtWhen(entry.started_at) }),
      el("td", { class: "path", text: folderLabel(entry.folder) }),
      el("td", {}, stateBadge(entry.state)),
      el("td", { class: "num", text: fmtInt(s.files_total) }),
      el("td", { class: "num", text: fmtInt(s.passages_created) }),
      el("td", { class: "num", text: fmtInt(entry.attention?.identified?.count) }),
      el("td", { class: "num", text: fmtInt(attention) }),
      el("td", {}, el("a", {
        href: `/import-progress?session_id=${encodeURIComponent(entry.session_id)}`,
        "aria-label": `Details of the import of ${folderLabel(entry.folder)} started ${fmtWhen(entry.started_at)}`,
        text: entry.running ? "Follow" : "Details",
      })));
  }));
}

// wkmp-ai tells every subscriber about every import: keep the running notice and history current.
function followImports() {
  const events = new EventSource("/events");
  events.addEventListener("state_changed", (m) => {
    const data = JSON.parse(m.data);
    if (!["COMPLETED", "CANCELLED", "FAILED"].includes(data.new_state)) showActive({ session_id: data.session_id, state: data.new_state });
  });
  events.addEventListener("completed", () => { showActive(null); setTimeout(loadHistory, 500); });
}

async function init() {
  const [schemaReply, valuesReply, activeReply] = await Promise.all([
    api("/parameters/schema"), api("/parameters/global"), api("/import/active"),
  ]);
  showActive(activeReply.ok ? activeReply.data.active : null);
  schema = schemaReply.data;
  renderParams();
  if (valuesReply.ok) showValues(valuesReply.data);
  await Promise.all([browse(new URLSearchParams(location.search).get("folder") || ""), loadHistory()]);
  loadServices();
  followImports();
}

init();
