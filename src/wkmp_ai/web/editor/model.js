// The passages being edited: plain data, edits as pure operations, undo/redo, the PUT body.
// Times are seconds (floats) for the UI; a value the user never touched keeps its exact ticks,
// so the server sees an untouched passage as kept.
"use strict";

export const SHARED = 1e-6; // two passages whose end and start are this close share a boundary

export function fromFile(file) {
  const T = file.ticks_per_second;
  const sec = (ticks) => (ticks === null || ticks === undefined ? null : ticks / T);
  return file.passages.map((p) => ({
    id: p.id,
    start: sec(p.start_ticks), end: sec(p.end_ticks),
    startTicks: p.start_ticks, endTicks: p.end_ticks,
    leadIn: sec(p.lead_in_start_ticks), leadOut: sec(p.lead_out_start_ticks),
    leadInTicks: p.lead_in_start_ticks, leadOutTicks: p.lead_out_start_ticks,
    leadUser: false,
    title: p.title, artist: p.artist,
    recording: p.recording_mbid, storedRecording: p.recording_mbid,
    identification: p.identification, release: p.release_mbid,
    source: p.boundary_source, adjusted: p.manually_adjusted,
  }));
}

const clone = (passages) => passages.map((p) => ({ ...p }));

export class History {
  constructor(passages) { this.reset(passages); }
  reset(passages) { this.past = []; this.future = []; this.current = clone(passages); this.saved = this.current; }
  get dirty() { return this.current !== this.saved; }
  apply(next) { this.past.push(this.current); this.future = []; this.current = next; return next; }
  undo() { if (this.past.length) { this.future.push(this.current); this.current = this.past.pop(); } return this.current; }
  redo() { if (this.future.length) { this.past.push(this.current); this.current = this.future.pop(); } return this.current; }
}

export function indexAt(passages, t) {
  const i = passages.findIndex((p) => t >= p.start && t < p.end);
  return i >= 0 ? i : passages.findIndex((p) => Math.abs(t - p.end) < SHARED);
}

function moved(p, fields) {
  const q = { ...p, ...fields };
  if ("start" in fields && fields.start !== p.start) { q.startTicks = null; q.source = "user"; }
  if ("end" in fields && fields.end !== p.end) { q.endTicks = null; q.source = "user"; }
  if (!q.leadUser && (q.startTicks === null || q.endTicks === null)) {
    // bounds moved and no lead point set by hand: the server measures them again
    q.leadIn = q.leadOut = q.leadInTicks = q.leadOutTicks = null;
  }
  for (const key of ["leadIn", "leadOut"]) {
    if (q[key] !== null && (q[key] < q.start || q[key] > q.end)) { q[key] = null; q[`${key}Ticks`] = null; }
  }
  return q;
}

export function split(passages, t, minGap = 0.05) {
  const i = indexAt(passages, t);
  if (i < 0) return null;
  const p = passages[i];
  if (t - p.start < minGap || p.end - t < minGap) return null;
  const first = moved(p, { end: t });
  const second = moved({ ...p, id: null, recording: null, storedRecording: null, identification: null }, { start: t });
  return [...passages.slice(0, i), first, second, ...passages.slice(i + 1)];
}

export function mergeNext(passages, i) {
  if (i < 0 || i + 1 >= passages.length) return null;
  const merged = moved(passages[i], { end: passages[i + 1].end });
  if (merged.leadOut === null && passages[i + 1].leadUser) {
    merged.leadOut = passages[i + 1].leadOut;
    merged.leadUser = true;
  }
  return [...passages.slice(0, i), merged, ...passages.slice(i + 2)];
}

export function remove(passages, i) {
  if (i < 0 || passages.length <= 1) return null;
  return [...passages.slice(0, i), ...passages.slice(i + 1)];
}

// Move the start (side "start") or end of passage i; a boundary shared with the neighbour moves with it.
export function moveEdge(passages, i, side, t) {
  const next = passages.slice();
  const p = passages[i];
  if (side === "start") {
    const prev = passages[i - 1];
    const low = prev ? prev.start + 0.05 : 0;
    t = Math.min(Math.max(t, low), p.end - 0.05);
    if (prev && Math.abs(prev.end - p.start) < SHARED) next[i - 1] = moved(prev, { end: t });
    else if (prev && t < prev.end) t = prev.end;
    next[i] = moved(p, { start: t });
  } else {
    const after = passages[i + 1];
    const high = after ? after.end - 0.05 : Infinity;
    t = Math.max(Math.min(t, high), p.start + 0.05);
    if (after && Math.abs(after.start - p.end) < SHARED) next[i + 1] = moved(after, { start: t });
    else if (after && t > after.start) t = after.start;
    next[i] = moved(p, { end: t });
  }
  return next;
}

// The boundary nearest to t: [index, side].
export function nearestEdge(passages, t) {
  let best = null;
  passages.forEach((p, i) => {
    for (const side of ["start", "end"]) {
      const d = Math.abs(p[side] - t);
      if (!best || d < best[2]) best = [i, side, d];
    }
  });
  return best ? [best[0], best[1]] : null;
}

export function setLead(passages, i, which, t) {
  const p = passages[i];
  if (!p || t < p.start || t > p.end) return null;
  const fields = { leadUser: true };
  if (which === "in") { fields.leadIn = Math.min(t, p.leadOut ?? p.end); fields.leadInTicks = null; }
  else { fields.leadOut = Math.max(t, p.leadIn ?? p.start); fields.leadOutTicks = null; }
  const next = passages.slice();
  next[i] = { ...p, ...fields };
  return next;
}

export function assign(passages, i, recording, title) {
  const next = passages.slice();
  next[i] = { ...passages[i], recording, title: title ?? passages[i].title };
  return next;
}

export function body(passages, T) {
  const ticks = (exact, seconds) => (exact !== null && exact !== undefined ? exact : Math.round(seconds * T));
  return {
    passages: passages.map((p) => {
      const out = { start_ticks: ticks(p.startTicks, p.start), end_ticks: ticks(p.endTicks, p.end) };
      if (p.id) out.id = p.id;
      if (p.leadUser && p.leadIn !== null) out.lead_in_start_ticks = ticks(p.leadInTicks, p.leadIn);
      if (p.leadUser && p.leadOut !== null) out.lead_out_start_ticks = ticks(p.leadOutTicks, p.leadOut);
      if (p.recording && p.recording !== p.storedRecording) out.recording_mbid = p.recording;
      return out;
    }),
  };
}

export function fmt(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const cs = Math.round(seconds * 100);
  const h = Math.floor(cs / 360000), m = Math.floor((cs % 360000) / 6000), s = Math.floor((cs % 6000) / 100);
  const rest = `${String(s).padStart(2, "0")}.${String(cs % 100).padStart(2, "0")}`;
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}
