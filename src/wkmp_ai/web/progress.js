// One import, live: phases, counts, errors grouped by kind, Cancel; at the end what came out of it.
import { $, api, el, fmtDuration, fmtInt, folderLabel, plural, stateBadge } from "./common.js";

const sessionId = new URLSearchParams(location.search).get("session_id");
const UI_URL = document.body.dataset.uiUrl;
const ROOT = document.body.dataset.root;

/** The import's folder relative to the music folder, as the wizard shows it. */
function relativeFolder(path) {
  if (path === ROOT) return "";
  return path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
}
const FINISHED = ["COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED"];
const SHOWN_ERRORS = 500;
let events = null;
let state = null;
const errors = [];
const codeCounts = new Map();
let codeFilter = "";
let renderQueued = false;

// ---- progress --------------------------------------------------------------------------------
const HEADLINES = {
  scanning: "Finding and reading files…",
  analysis: "Analysing files…",
  identification: "Identifying albums…",
  finished: "Finished",
};

function setState(newState) {
  state = newState;
  $("state-badge").replaceChildren(stateBadge(newState));
  $("cancel").disabled = FINISHED.includes(newState) || $("cancel").dataset.asked === "1";
}

function setPhase(id, status, word) {
  const li = $(`phase-${id}`);
  li.dataset.status = status;
  li.querySelector(".phase-state").textContent = word;
}

function scanText(s) {
  if (s.step === "discovering") return s.files_found ? `Looking for audio files… ${plural(s.files_found, "file")} found so far.` : "Looking for audio files…";
  const found = `Found ${plural(s.files_found, "audio file")}`;
  if (s.step === "reading") return `${found}; read ${fmtInt(s.files_read)} of ${fmtInt(s.files_to_read)} new or changed (fingerprint of the bytes, tags, cover art).`;
  if (s.step === "writing") return `${found}; saving what was read…`;
  return `${found}, ${fmtInt(s.files_to_read)} of them new or changed.`;
}

function waitingText(ident) {
  const busy = Object.entries(ident.waiting_by_service || {}).filter(([, n]) => n > 0);
  if (!busy.length) return "";
  const names = { acoustid: "AcoustID", musicbrainz: "MusicBrainz", acousticbrainz: "AcousticBrainz", coverart: "Cover Art Archive" };
  return ` ${busy.map(([k, n]) => `${plural(n, "request")} waiting for ${names[k] || k}`).join(", ")} (their rate limits).`;
}

function renderProgress(p) {
  const pct = Number(p.overall_percentage ?? 0);
  $("overall").value = pct;
  $("overall-pct").textContent = `${pct.toFixed(pct < 10 ? 1 : 0)} %`;
  $("headline").textContent = HEADLINES[p.phase] || "";
  const { scanning, analysis, identification } = p.phases;
  const order = ["scanning", "analysis", "identification", "finished"];
  const at = order.indexOf(p.phase);
  const scanned = at === 3 || (at > 0 && scanning.step === "done"); // the scan goes on while the first folders are analysed
  setPhase("scanning", scanned ? "done" : "active", scanned ? "done" : "in progress");
  $("scan-text").textContent = scanText(scanning);
  setPhase("analysis", at > 1 ? "done" : at === 1 ? "active" : "waiting", at > 1 ? "done" : at === 1 ? "in progress" : "next");
  if (at >= 1) {
    $("analysis-bar").max = Math.max(analysis.total, 1);
    $("analysis-bar").value = analysis.total ? analysis.done : 1;
    const eta = analysis.eta_seconds === null || at > 1 ? "" : ` · about ${fmtDuration(analysis.eta_seconds)} left`;
    const rate = analysis.files_per_second ? ` · ${analysis.files_per_second.toFixed(2)} files/s` : "";
    $("analysis-text").textContent = analysis.total
      ? `${fmtInt(analysis.done)} of ${plural(analysis.total, "file")}${rate}${eta}`
      : "Nothing new to analyse.";
  }
  $("workers").replaceChildren(...(p.current_files || []).map((f) => el("li", { title: f, text: `▸ ${f}` })));
  const identActive = at === 2 || (at === 1 && identification.albums_done < identification.albums_total && identification.albums_done + identification.requests_waiting > 0);
  setPhase("identification", at > 2 ? "done" : identActive ? "active" : "waiting", at > 2 ? "done" : identActive ? "in progress" : "after each folder");
  if (at >= 1) {
    $("ident-bar").max = Math.max(identification.albums_total, 1);
    $("ident-bar").value = identification.albums_total ? identification.albums_done : (at > 2 ? 1 : 0);
    $("ident-text").textContent = identification.albums_total
      ? `${fmtInt(identification.albums_done)} of ${plural(identification.albums_total, "album")} identified.${waitingText(identification)}`
      : at > 2 ? "Nothing to identify." : "Starts as soon as a folder is analysed.";
  }
  $("n-ok").textContent = fmtInt(p.succeeded);
  $("n-warn").textContent = fmtInt(p.with_warnings);
  $("n-failed").textContent = fmtInt(p.failed);
  $("n-unchanged").textContent = fmtInt(p.unchanged);
}

function fromStatus(s) {
  return {
    ...s, ...s.counts, overall_percentage: s.overall_percentage, phase: s.phase, phases: s.phases,
    current_files: s.current_files,
  };
}

// ---- errors ----------------------------------------------------------------------------------
// The code is for programs and searches; people read its label (an older server sends none).
const labelOf = (e) => e.error_label || e.error_code;
const codeLabels = new Map();

function addError(e) {
  errors.push(e);
  codeCounts.set(e.error_code, (codeCounts.get(e.error_code) || 0) + 1);
  codeLabels.set(e.error_code, labelOf(e));
  if (!renderQueued) {
    renderQueued = true;
    requestAnimationFrame(renderErrors);
  }
}

function renderErrors() {
  renderQueued = false;
  $("errors-panel").hidden = errors.length === 0;
  $("error-count").textContent = fmtInt(errors.length);
  const codes = [["", "All", errors.length], ...[...codeCounts.entries()].sort((a, b) => b[1] - a[1])
    .map(([c, n]) => [c, codeLabels.get(c), n])];
  $("codes").replaceChildren(...codes.map(([code, label, n]) => el("button", {
    type: "button", "aria-pressed": String(code === codeFilter), text: `${label} (${fmtInt(n)})`,
    title: code || "every problem", "data-code": code,
    onclick: () => { codeFilter = code; renderErrors(); },
  })));
  const needle = $("path-filter").value.trim().toLowerCase();
  const matching = errors.filter((e) => (!codeFilter || e.error_code === codeFilter)
    && (!needle || (e.file_path || "").toLowerCase().includes(needle)));
  $("errors").tBodies[0].replaceChildren(...matching.slice(0, SHOWN_ERRORS).map((e) => el("tr", { class: e.severity },
    el("td", { class: "path", text: e.file_path || "—" }),
    el("td", { text: labelOf(e), title: e.error_code, "data-code": e.error_code }),
    el("td", { text: e.error_message }))));
  $("errors-shown").textContent = matching.length > SHOWN_ERRORS
    ? `Showing the first ${SHOWN_ERRORS} of ${fmtInt(matching.length)}; narrow them down with the filters.`
    : `${plural(matching.length, "entry", "entries")} shown.`;
}
$("path-filter").addEventListener("input", renderErrors);

// ---- the end ---------------------------------------------------------------------------------
const OUTCOMES = [
  ["identified", "Identified", "Matched to MusicBrainz recordings."],
  ["partial", "Partly identified", "Some passages matched, others not."],
  ["pending", "Waiting to be identified", "The services could not be asked (offline, no key, rate limits); the next import tries again."],
  ["no_match", "No match found", "Nothing in MusicBrainz fits; check the tags or edit the passages."],
  ["failed", "Failed to analyse", "These files could not be decoded or analysed."],
  ["skipped", "Skipped", "These files were not imported."],
];

function fileItem(f) {
  const reason = f.reason ? ` — ${f.label || f.code}: ${f.reason}` : "";
  const passages = f.passages ? ` (${plural(f.passages, "passage")})` : "";
  if (!f.file_id) return el("li", {}, el("span", { class: "path", text: f.path }), reason);
  return el("li", {},
    el("a", { class: "path", href: `/segment-editor?file=${encodeURIComponent(f.file_id)}`, text: f.path }), passages, reason);
}

function renderOutcomes(attention) {
  const blocks = OUTCOMES.filter(([key]) => attention[key] && attention[key].count > 0).map(([key, label, help]) => {
    const o = attention[key];
    const more = o.count > o.files.length ? el("li", { class: "muted", text: `…and ${fmtInt(o.count - o.files.length)} more` }) : null;
    return el("details", { class: "outcome", "data-outcome": key, open: key !== "identified" },
      el("summary", { text: `${label}: ${plural(o.count, "file")}` }),
      el("p", { class: "small muted", text: help }),
      el("ul", {}, ...o.files.map(fileItem), more));
  });
  $("outcomes").replaceChildren(...(blocks.length ? blocks : [el("p", { class: "muted", text: "No file was new or changed: nothing needed importing." })]));
}

async function loadOutcome(tries = 20) {
  const reply = await api(`/import/history/${encodeURIComponent(sessionId)}`);
  if (reply.ok && reply.data.attention) {
    renderOutcomes(reply.data.attention);
    return reply.data;
  }
  if (tries > 0) {
    await new Promise((r) => setTimeout(r, 300));
    return loadOutcome(tries - 1);
  }
  $("outcomes").replaceChildren(el("p", { class: "muted", text: "The list of files is not available." }));
  return null;
}

function finish(summary, fatal) {
  if (events) { events.close(); events = null; }
  setState(summary.state);
  $("progress-panel").hidden = true;
  $("summary-panel").hidden = false;
  $("title").textContent = `Import ${({ COMPLETED: "complete", CANCELLED: "cancelled", FAILED: "failed", INTERRUPTED: "interrupted" })[summary.state] || summary.state}`;
  $("summary-title").replaceChildren(stateBadge(summary.state), ` ${folderLabel(window.importFolder)}`);
  const banner = $("done-banner");
  if (summary.state === "COMPLETED") {
    banner.replaceChildren("Your library is ready. ", el("a", { href: UI_URL, id: "open-wkmp", text: "Open WKMP to play it" }), ".");
  } else if (summary.state === "CANCELLED") {
    banner.textContent = "The import was cancelled. Everything finished before that is kept; start the same import again to do the rest.";
  } else if (summary.state === "INTERRUPTED") {
    banner.textContent = "wkmp-ai stopped during this import. Everything finished before that is kept; start the same import again to do the rest.";
  } else {
    banner.textContent = `The import failed${fatal ? `: ${fatal}` : ""}. Everything finished before that is kept.`;
    banner.className = "done-banner error";
  }
  const items = [
    ["Files imported", summary.files_processed], ["Passages created", summary.passages_created],
    ["Identified", summary.files_identified], ["Unchanged", summary.files_unchanged],
    ["With warnings", summary.files_with_warnings], ["Failed", summary.files_failed],
    ["Not reached", summary.files_skipped], ["Time taken", fmtDuration(summary.duration_seconds)],
  ];
  $("summary-counts").replaceChildren(...items.map(([k, v]) => el("div", {}, el("dt", { text: k }),
    el("dd", { text: typeof v === "number" ? fmtInt(v) : v ?? "–" }))));
  loadOutcome();
}

// ---- following -------------------------------------------------------------------------------
function follow(lastEventId) {
  events = new EventSource(`/events?session_id=${encodeURIComponent(sessionId)}&last_event_id=${lastEventId}`);
  events.addEventListener("state_changed", (m) => setState(JSON.parse(m.data).new_state));
  events.addEventListener("progress", (m) => renderProgress(JSON.parse(m.data)));
  events.addEventListener("error", (m) => { if (m.data) addError(JSON.parse(m.data)); });
  events.addEventListener("completed", (m) => {
    const fatal = errors.find((e) => e.severity === "critical");
    finish(JSON.parse(m.data), fatal && fatal.error_message);
  });
}

$("cancel").addEventListener("click", async () => {
  $("cancel").dataset.asked = "1";
  $("cancel").disabled = true;
  $("cancel-note").textContent = "Stopping at the next file boundary; nothing half-written is kept…";
  const reply = await api(`/import/cancel/${encodeURIComponent(sessionId)}`, { method: "POST", body: {} });
  if (!reply.ok && reply.status !== 409) {
    $("cancel-note").textContent = reply.data.message || `Could not cancel (error ${reply.status}).`;
    $("cancel").dataset.asked = "";
    $("cancel").disabled = false;
  }
});

function fail(message) {
  $("load-error").replaceChildren(message, " ", el("a", { href: "/", text: "Go to the import wizard" }), ".");
  $("load-error").hidden = false;
}

async function init() {
  if (!sessionId) {
    const active = await api("/import/active");
    if (active.ok && active.data.active) {
      location.replace(`/import-progress?session_id=${encodeURIComponent(active.data.active.session_id)}`);
      return;
    }
    fail("No import is running.");
    return;
  }
  // An import whose session is forgotten (restart, or over an hour ago) is read from the history.
  const past = await api(`/import/history/${encodeURIComponent(sessionId)}`);
  if (past.ok && past.data.finished_at && !past.data.status_available) {
    window.importFolder = past.data.folder;
    $("folder-line").textContent = `Folder: ${folderLabel(past.data.folder)}`;
    finish({ ...(past.data.summary || {}), state: past.data.state });
    return;
  }
  const status = await api(`/import/status/${encodeURIComponent(sessionId)}`);
  if (!status.ok) { fail("This import is not known to wkmp-ai."); return; }
  const s = status.data;
  window.importFolder = relativeFolder(s.root_folder);
  $("folder-line").textContent = `Folder: ${folderLabel(window.importFolder)}`;
  for (const e of s.errors) addError(e);
  setState(s.state);
  if (FINISHED.includes(s.state)) {
    finish(s, s.error && s.error.message);
    return;
  }
  $("title").textContent = `Importing ${folderLabel(window.importFolder)}`;
  $("progress-panel").hidden = false;
  renderProgress(fromStatus(s));
  follow(s.last_event_id);
}

init();
