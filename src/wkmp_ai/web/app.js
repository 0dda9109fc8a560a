// The import page: start an import, follow it over Server-Sent Events, show the summary.
"use strict";

const $ = (id) => document.getElementById(id);
let session = null;
let events = null;

function show(id, visible) { $(id).hidden = !visible; }

function fmtEta(seconds) {
  if (seconds === null || seconds === undefined) return "--";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

function addError(e) {
  const row = document.createElement("tr");
  row.className = e.severity;
  for (const text of [e.file_path || "—", e.error_code, e.error_message]) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.appendChild(cell);
  }
  $("errors").tBodies[0].appendChild(row);
  $("error-count").textContent = $("errors").tBodies[0].rows.length;
  show("errors-panel", true);
}

function onProgress(p) {
  $("current").textContent = p.current;
  $("total").textContent = p.total;
  $("bar").value = p.percentage || 0;
  $("rate").textContent = (p.files_per_second || 0).toFixed(2);
  $("eta").textContent = fmtEta(p.estimated_remaining_seconds);
  $("operation").textContent = p.operation || "";
  const list = $("current-files");
  list.replaceChildren(...(p.current_files || []).map((f) => {
    const li = document.createElement("li");
    li.textContent = f;
    return li;
  }));
}

function onCompleted(c) {
  if (events) events.close();
  show("progress-panel", false);
  $("summary-title").textContent = `Import ${c.state.toLowerCase()}`;
  const rows = [
    ["Files imported", c.files_processed], ["With warnings", c.files_with_warnings],
    ["Failed", c.files_failed], ["Unchanged", c.files_unchanged], ["Identified", c.files_identified],
    ["Passages created", c.passages_created], ["Duration (s)", c.duration_seconds],
  ];
  $("summary").replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement("tr");
    tr.innerHTML = "<th></th><td></td>";
    tr.cells[0].textContent = k;
    tr.cells[1].textContent = v;
    return tr;
  }));
  show("summary-panel", true);
  $("start").disabled = false;
}

function follow(id) {
  events = new EventSource(`/events?session_id=${encodeURIComponent(id)}`);
  events.addEventListener("state_changed", (m) => { $("state").textContent = JSON.parse(m.data).new_state; });
  events.addEventListener("progress", (m) => onProgress(JSON.parse(m.data)));
  events.addEventListener("error", (m) => { if (m.data) addError(JSON.parse(m.data)); });
  events.addEventListener("completed", (m) => onCompleted(JSON.parse(m.data)));
}

async function post(path, body) {
  const reply = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await reply.json().catch(() => ({}));
  return { ok: reply.ok, status: reply.status, data };
}

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  show("start-error", false);
  const medium = $("source-media").value;
  if (medium) {
    const r = await post("/parameters/global", { source_media: medium });
    if (!r.ok) { $("start-error").textContent = r.data.message || "Could not save the source media"; show("start-error", true); return; }
  }
  const folder = $("folder").value.trim();
  const r = await post("/import/start", folder ? { root_folder: folder } : {});
  if (!r.ok) {
    const active = r.data.active_session_id ? " (following the import already running)" : "";
    $("start-error").textContent = (r.data.message || r.data.error || `Error ${r.status}`) + active;
    show("start-error", true);
    if (!r.data.active_session_id) return;
    session = r.data.active_session_id;
  } else {
    session = r.data.session_id;
  }
  $("start").disabled = true;
  $("errors").tBodies[0].replaceChildren();
  show("summary-panel", false);
  show("progress-panel", true);
  history.replaceState(null, "", `/import-progress?session_id=${session}`);
  follow(session);
});

$("cancel").addEventListener("click", async () => {
  if (session) await post(`/import/cancel/${session}`, {});
});

// Opened as /import-progress?session_id=…: follow that session straight away.
const given = new URLSearchParams(location.search).get("session_id");
if (given) {
  session = given;
  $("start").disabled = true;
  show("progress-panel", true);
  follow(given);
}
