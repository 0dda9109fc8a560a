"""The segment editor's work (docs/editor.md): list files, show one with its
passages, give its waveform peaks, and replace its passages with what a person drew.

Routes and the CLI call these; they take the database and settings and raise
:class:`EditorProblem` for anything the caller must refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wkmp_ai.config import Settings
from wkmp_ai.db import editor as q
from wkmp_ai.db import identify as identify_queries
from wkmp_ai.db.connection import Database
from wkmp_ai.db.editor import FILTERS
from wkmp_ai.db.settings import load_import_parameters
from wkmp_ai.errors import Refused
from wkmp_ai.records.analysis import Peaks
from wkmp_ai.records.identify import FileTags, FileToIdentify, PassageToIdentify, group_key
from wkmp_ai.services.assign import assignments, write_assignments
from wkmp_ai.ticks import TICKS_PER_SECOND, seconds_to_ticks

__all__ = [
    "FILTERS",
    "EditorProblem",
    "PassageEdit",
    "file_detail",
    "list_files",
    "peaks_of",
    "replace_passages",
]


class EditorProblem(Refused):
    """A request the editor refuses: an HTTP status, a short label, a message, and one entry per problem
    (the API's one error handler answers it)."""

    def __init__(self, status: int, error: str, message: str, errors: Sequence[dict[str, Any]] = ()):
        extra: dict[str, Any] = {"errors": list(errors)} if errors else {}
        super().__init__(message, error=error, status=status, **extra)
        self.message = message
        self.errors = list(errors)


def _not_found(file_id: str) -> EditorProblem:
    return EditorProblem(404, "not_found", f"no file {file_id}")


def list_files(db: Database, filter_name: str, query: str | None, offset: int, limit: int) -> dict[str, Any]:
    with db.read() as conn:
        total, files = q.list_files(conn, filter_name, query, offset, limit)
    return {"total": total, "offset": offset, "limit": limit, "files": files}


def file_detail(db: Database, file_id: str) -> dict[str, Any]:
    with db.read() as conn:
        row = q.file_row(conn, file_id)
        if row is None:
            raise _not_found(file_id)
        passages = q.passages_of(conn, file_id)
        changed = conn.execute(
            "SELECT changed_on_disk FROM wkmp_ai_file_edits WHERE file_id = ?", (file_id,)
        ).fetchone()
    albums: dict[str, dict[str, Any]] = {}
    for p in passages:
        if p["release_mbid"] and p["release_mbid"] not in albums:
            albums[p["release_mbid"]] = {"release_mbid": p["release_mbid"], "title": p["album_title"]}
    tracks = [_passage_json(p) for p in passages if not p["album_passage"]]
    album_passage = next((_passage_json(p) for p in passages if p["album_passage"]), None)
    return {
        "id": row["id"],
        "path": row["path"],
        "format": row["format"],
        "duration_s": row["duration_s"],
        "duration_ticks": seconds_to_ticks(row["duration_s"]) if row["duration_s"] else None,
        "ticks_per_second": TICKS_PER_SECOND,
        "status": row["status"],
        "low_confidence": row["low_confidence"],
        "edited": row["edited"],
        "changed_on_disk": bool(changed[0]) if changed else False,
        "passages": tracks,
        "album_passage": album_passage,
        "albums": list(albums.values()),
    }


def _passage_json(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": p["id"],
        "start_ticks": p["start_ticks"],
        "end_ticks": p["end_ticks"],
        "lead_in_start_ticks": p["lead_in_start_ticks"],
        "lead_out_start_ticks": p["lead_out_start_ticks"],
        "title": p["user_title"] or p["title"],
        "artist": p["artist"],
        "album": p["album"],
        "recording_mbid": p["recording_mbid"],
        "release_mbid": p["release_mbid"],
        "identification": {
            "status": p["identify_status"] or "not_identified",
            "method": p["identify_method"],
            "score": p["identify_score"],
            "detail": p["identify_detail"],
        },
        "manually_adjusted": p["manually_adjusted"],
        "boundary_source": p["boundary_source"],
        "lead_source": p["lead_source"],
    }


def peaks_of(db: Database, root: Path, file_id: str) -> Peaks:
    """The file's stored peaks; for a file imported before peaks were kept (or changed since), one
    decode now, stored for next time."""
    with db.read() as conn:
        row = conn.execute("SELECT path, hash FROM files WHERE guid = ?", (file_id,)).fetchone()
        if row is None:
            raise _not_found(file_id)
        peaks = q.load_peaks(conn, file_id, row["hash"])
    if peaks is not None:
        return peaks
    from wkmp_ai.audio.peaks import compute_peaks  # the audio stack loads on first use only
    from wkmp_ai.errors import IngestError

    try:
        peaks = compute_peaks(root / row["path"])
    except IngestError as exc:
        raise EditorProblem(422, exc.code.value, f"cannot draw the waveform: {exc.detail}") from exc
    with db.write() as conn:
        q.save_peaks(conn, file_id, row["hash"], peaks)
    return peaks


# --- replacing a file's passages -------------------------------------------------------------


@dataclass(frozen=True)
class PassageEdit:
    """One passage of a PUT /files/{id}/passages body (already type-checked)."""

    start_ticks: int
    end_ticks: int
    lead_in_start_ticks: int | None = None
    lead_out_start_ticks: int | None = None
    recording_mbid: str | None = None
    id: str | None = None


@dataclass
class _Plan:
    writes: list[q.PassageWrite] = field(default_factory=list)
    analyse: list[int] = field(default_factory=list)  # indexes whose fingerprint/leads are measured again
    assign: dict[int, str] = field(default_factory=dict)  # index → recording MBID the user chose


def validate(
    edits: Sequence[PassageEdit], stored: Sequence[dict[str, Any]], duration_ticks: int, min_ticks: int
) -> list[dict[str, Any]]:
    """One problem per broken rule; empty when the passages can be saved."""
    from wkmp_ai.identify.musicbrainz import is_mbid

    problems: list[dict[str, Any]] = []

    def problem(index: int | None, fld: str, message: str) -> None:
        prefix = f"passage {index + 1}: " if index is not None else ""
        problems.append({"index": index, "field": fld, "message": prefix + message})

    if not edits:
        problem(None, "passages", "a file needs at least one passage")
    ids = {p["id"]: p for p in stored}
    seen: set[str] = set()
    for i, e in enumerate(edits):
        if e.id is not None:
            if e.id not in ids:
                problem(i, "id", f"{e.id} is not a passage of this file")
            elif ids[e.id]["album_passage"]:
                problem(i, "id", "the whole-file album passage is not edited here")
            elif e.id in seen:
                problem(i, "id", f"{e.id} is listed twice")
            seen.add(e.id)
        if e.end_ticks <= e.start_ticks:
            problem(i, "end_ticks", "ends before it starts")
        elif e.end_ticks - e.start_ticks < min_ticks:
            problem(i, "end_ticks", f"is shorter than the minimum passage length ({min_ticks / TICKS_PER_SECOND:g} s)")
        if e.end_ticks > duration_ticks:
            problem(i, "end_ticks", f"ends after the end of the file ({duration_ticks / TICKS_PER_SECOND:.3f} s)")
        for name in ("lead_in_start_ticks", "lead_out_start_ticks"):
            value = getattr(e, name)
            if value is not None and not e.start_ticks <= value <= e.end_ticks:
                problem(i, name, f"{name.removesuffix('_start_ticks').replace('_', '-')} point is outside the passage")
        if (
            e.lead_in_start_ticks is not None
            and e.lead_out_start_ticks is not None
            and e.lead_out_start_ticks < e.lead_in_start_ticks
        ):
            problem(i, "lead_out_start_ticks", "lead-out point is before the lead-in point")
        if e.recording_mbid is not None and not is_mbid(e.recording_mbid):
            problem(i, "recording_mbid", "is not a MusicBrainz ID")
        if i:
            before = edits[i - 1]
            if e.start_ticks < before.start_ticks:
                problem(i, "start_ticks", "is not in time order (passages are listed from the start of the file)")
            elif e.start_ticks < before.end_ticks:
                problem(i, "start_ticks", f"overlaps passage {i}")
    return problems


def _plan(edits: Sequence[PassageEdit], stored: Sequence[dict[str, Any]]) -> _Plan:
    by_id = {p["id"]: p for p in stored}
    tracks = [p for p in stored if not p["album_passage"]]
    plan = _Plan()
    for i, e in enumerate(edits):
        old = by_id.get(e.id) if e.id else None
        moved = old is None or (old["start_ticks"], old["end_ticks"]) != (e.start_ticks, e.end_ticks)
        user_leads = e.lead_in_start_ticks is not None or e.lead_out_start_ticks is not None
        lead_in = e.lead_in_start_ticks if e.lead_in_start_ticks is not None else (old or {}).get("lead_in_start_ticks")
        lead_out = (
            e.lead_out_start_ticks if e.lead_out_start_ticks is not None else (old or {}).get("lead_out_start_ticks")
        )
        if moved and not user_leads:
            lead_in = lead_out = None  # measured again below
        metadata: dict[str, Any] = {}
        if moved or user_leads:
            metadata["manually_adjusted"] = True
        if moved:
            metadata["boundary_source"] = "user"
            plan.analyse.append(i)
        if user_leads:
            metadata["lead_source"] = "user"
        text = old or _overlapping(tracks, e) or {}
        plan.writes.append(
            q.PassageWrite(
                id=e.id,
                start_ticks=e.start_ticks,
                end_ticks=e.end_ticks,
                lead_in_start_ticks=lead_in,
                lead_out_start_ticks=lead_out,
                title=text.get("title"),
                artist=text.get("artist"),
                album=text.get("album"),
                metadata=metadata,
                relink=moved and old is not None,
            )
        )
        if e.recording_mbid and (old is None or e.recording_mbid != old["recording_mbid"]):
            plan.assign[i] = e.recording_mbid
    return plan


def _overlapping(tracks: Sequence[dict[str, Any]], e: PassageEdit) -> dict[str, Any] | None:
    """The stored passage a new one overlaps most (a split's halves keep the text of the whole)."""
    best, best_overlap = None, 0
    for p in tracks:
        overlap = min(p["end_ticks"], e.end_ticks) - max(p["start_ticks"], e.start_ticks)
        if overlap > best_overlap:
            best, best_overlap = p, overlap
    return best


def replace_passages(db: Database, settings: Settings, file_id: str, edits: Sequence[PassageEdit]) -> dict[str, Any]:
    """Validate, measure what moved, and write the file's passages in one transaction.

    Returns ``{"file": <file_detail>, "reidentify": <FileToIdentify or None>}``: the passages whose
    boundaries moved (and that the user gave no recording) are pending identification.
    """
    with db.read() as conn:
        row = q.file_row(conn, file_id)
        if row is None:
            raise _not_found(file_id)
        stored = q.passages_of(conn, file_id)
        params, _warnings = load_import_parameters(conn)
        request_row = q.identify_request(conn, file_id)
    if not row["duration_s"] or row["status"] in ("failed", "not_analysed"):
        raise EditorProblem(409, "not_analysed", "the file has not been analysed; import it first")
    duration_ticks = seconds_to_ticks(row["duration_s"])
    min_ticks = seconds_to_ticks(params["min_passage_duration_s"])
    problems = validate(edits, stored, duration_ticks, min_ticks)
    if problems:
        raise EditorProblem(400, "invalid_passages", "; ".join(p["message"] for p in problems), problems)
    plan = _plan(edits, stored)
    fingerprints: dict[int, tuple[str | None, float]] = {}
    if plan.analyse:
        from wkmp_ai.audio.reanalyze import analyze_ranges
        from wkmp_ai.errors import IngestError

        ranges = [(edits[i].start_ticks, edits[i].end_ticks) for i in plan.analyse]
        try:
            results = analyze_ranges(settings.root_folder / row["path"], ranges, params)
        except IngestError as exc:
            raise EditorProblem(422, exc.code.value, f"cannot analyse the file again: {exc.detail}") from exc
        for i, result in zip(plan.analyse, results, strict=True):
            w = plan.writes[i]
            if w.lead_in_start_ticks is None and w.lead_out_start_ticks is None:
                w.lead_in_start_ticks, w.lead_out_start_ticks = result.lead_in_start_ticks, result.lead_out_start_ticks
                w.metadata["lead_source"] = "analysis"
                w.metadata["amplitude_analysis"] = {
                    "lead_in_detected_s": result.lead_in_s,
                    "lead_out_detected_s": result.lead_out_s,
                    "peak_rms": result.peak_rms,
                }
            fingerprints[i] = (result.fingerprint, result.fingerprint_duration_s)
    with db.read() as conn:
        chosen = assignments(conn, {i: m for i, m in plan.assign.items()})
    unknown = [i for i in plan.assign if i not in chosen]
    if unknown:
        problems = [
            {
                "index": i,
                "field": "recording_mbid",
                "message": f"passage {i + 1}: recording {plan.assign[i]} is not known here; "
                "choose it from the release's track list",
            }
            for i in unknown
        ]
        raise EditorProblem(400, "invalid_passages", "; ".join(p["message"] for p in problems), problems)
    request = _reidentify_request(row, request_row, plan, edits, fingerprints, chosen)

    def write(conn: Any) -> list[str]:
        ids = q.replace_passages(conn, file_id, row["hash"], plan.writes)
        for i, pid in enumerate(ids):
            if i in plan.analyse and i not in chosen:
                conn.execute("DELETE FROM wkmp_ai_identify_passages WHERE passage_id = ?", (pid,))
        if request is not None:
            identify_queries.save_pending(conn, _with_ids(request, ids), request_key(request))
        write_assignments(conn, file_id, row["path"], {ids[i]: v for i, v in chosen.items()}, plan.writes, ids)
        return ids

    with db.write() as conn:
        ids = write(conn)
    return {"file": file_detail(db, file_id), "reidentify": _with_ids(request, ids) if request else None}


def request_key(request: FileToIdentify) -> str:
    return group_key(request.folder, request.tags.album)


def _reidentify_request(
    row: dict[str, Any],
    stored: tuple[str, str] | None,
    plan: _Plan,
    edits: Sequence[PassageEdit],
    fingerprints: dict[int, tuple[str | None, float]],
    chosen: dict[int, Any],
) -> FileToIdentify | None:
    """The identification request of the passages that moved and have no recording from the user;
    their ids are placeholders (the index) until the rows are written."""
    indexes = [i for i in plan.analyse if i not in chosen]
    if not indexes:
        return None
    if stored is not None:
        base = FileToIdentify.from_json(stored[1])
    else:
        folder = row["path"].rpartition("/")[0]
        base = FileToIdentify(row["id"], row["path"], folder, FileTags(duration_s=row["duration_s"]), ())
    passages = tuple(
        PassageToIdentify(
            passage_id=str(i),
            fingerprint=fingerprints.get(i, (None, 0.0))[0],
            duration_s=(edits[i].end_ticks - edits[i].start_ticks) / TICKS_PER_SECOND,
            start_ticks=edits[i].start_ticks,
            end_ticks=edits[i].end_ticks,
        )
        for i in indexes
    )
    return FileToIdentify(base.file_id, base.rel_path, base.folder, base.tags, passages, base.has_folder_art)


def _with_ids(request: FileToIdentify, ids: Sequence[str]) -> FileToIdentify:
    from dataclasses import replace

    if all(not p.passage_id.isdigit() for p in request.passages):
        return request
    return replace(
        request,
        passages=tuple(replace(p, passage_id=ids[int(p.passage_id)]) for p in request.passages),
    )
