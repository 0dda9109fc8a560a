"""SQL of the segment editor: the file list, one file with its passages, a file's passages replaced
by hand, waveform peaks, and the marks that keep a manual edit through later imports (docs/editor.md).

Every function takes a connection; writers run inside the caller's transaction.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wkmp_ai.records.analysis import Peaks

__all__ = [
    "FILTERS",
    "LOW_CONFIDENCE",
    "PassageWrite",
    "chosen_by_hand",
    "current_releases",
    "file_row",
    "folder_file_ids",
    "identify_request",
    "is_edited",
    "list_files",
    "load_peaks",
    "mark_candidate_chosen",
    "note_changed_on_disk",
    "passages_of",
    "replace_passages",
    "save_peaks",
    "set_identify_status",
]

FILTERS = ("all", "needs_review", "no_match", "pending", "multi_passage", "edited")
LOW_CONFIDENCE = 0.8  # an identification scored below this asks for a look

# The whole-file album passage (create_album_passage) is not one of the tracks the editor edits.
# db/imports.write_file_analysis writes its import_metadata as '{"album_passage": true, ...}': a
# prefix test with a partial index of its own (wkmp_ai.sql), because reading the kilobytes of JSON
# of every passage made the list of 50,000 files take seconds.
_ALBUM = """(p.import_metadata LIKE '{"album_passage": true%')"""

# Per-file facts, each aggregated once (correlated subqueries per file made 50,000 files take seconds).
_FILES = f"""
SELECT f.guid AS id, f.path, f.duration AS duration_s,
  coalesce(pc.n, 0) - coalesce(ac.n, 0) AS passages,
  CASE WHEN s.status = 'failed' THEN 'failed' WHEN s.status IS NULL THEN 'not_analysed'
       ELSE coalesce(i.status, 'analysed') END AS status,
  e.file_id IS NOT NULL AS edited,
  (lc.file_id IS NOT NULL OR (cc.file_id IS NOT NULL AND cc.any_chosen = 0)) AS low_confidence
FROM files f
LEFT JOIN wkmp_ai_import_state s ON s.file_id = f.guid
LEFT JOIN wkmp_ai_identify_files i ON i.file_id = f.guid
LEFT JOIN wkmp_ai_file_edits e ON e.file_id = f.guid
LEFT JOIN (SELECT file_id, count(*) AS n FROM passages GROUP BY file_id) pc ON pc.file_id = f.guid
LEFT JOIN (SELECT p.file_id, count(*) AS n FROM passages p WHERE {_ALBUM} GROUP BY p.file_id) ac
  ON ac.file_id = f.guid
LEFT JOIN (SELECT DISTINCT file_id FROM wkmp_ai_identify_passages
           WHERE status = 'identified' AND score IS NOT NULL AND score < {LOW_CONFIDENCE}) lc ON lc.file_id = f.guid
LEFT JOIN (SELECT file_id, max(chosen) AS any_chosen FROM wkmp_ai_release_candidates GROUP BY file_id) cc
  ON cc.file_id = f.guid
"""

_FILTER_SQL = {
    "all": "1",
    "needs_review": "(passages > 1 OR status IN ('no_match', 'partial', 'pending') OR low_confidence)",
    "no_match": "status IN ('no_match', 'partial')",
    "pending": "status = 'pending'",
    "multi_passage": "passages > 1",
    "edited": "edited",
}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_files(
    conn: sqlite3.Connection, filter_name: str, query: str | None, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page of files ordered by path)."""
    where = _FILTER_SQL[filter_name]
    args: list[Any] = []
    if query:
        where += (
            " AND (path LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM passages p WHERE p.file_id = t.id AND "
            "(p.title LIKE ? ESCAPE '\\' OR p.artist LIKE ? ESCAPE '\\' OR p.album LIKE ? ESCAPE '\\')))"
        )
        args += [_like(query)] * 4
    base = f"SELECT * FROM ({_FILES}) t WHERE {where}"
    if where == "1":  # every file: the count needs none of the per-file facts, the page only 100 rows' worth
        total = int(conn.execute("SELECT count(*) FROM files").fetchone()[0])
        rows = conn.execute(f"{base} ORDER BY path LIMIT ? OFFSET ?", [limit, offset]).fetchall()
    else:  # one pass gives the page and the total; only a page past the end needs the count on its own
        rows = conn.execute(
            f"SELECT *, count(*) OVER () AS total FROM ({base}) ORDER BY path LIMIT ? OFFSET ?", [*args, limit, offset]
        ).fetchall()
        total = (
            int(rows[0]["total"]) if rows else int(conn.execute(f"SELECT count(*) FROM ({base})", args).fetchone()[0])
        )
    files = []
    for row in rows:
        entry = dict(row)
        entry.pop("total", None)
        entry["edited"], entry["low_confidence"] = bool(entry["edited"]), bool(entry["low_confidence"])
        files.append(entry)
    return total, files


def file_row(conn: sqlite3.Connection, file_id: str) -> dict[str, Any] | None:
    one = _FILES.replace("SELECT f.guid AS id,", "SELECT f.hash, w.format, f.guid AS id,", 1)
    one = one.replace("FROM files f", "FROM files f LEFT JOIN wkmp_ai_files w ON w.file_id = f.guid", 1)
    row = conn.execute(one + " WHERE f.guid = ?", (file_id,)).fetchone()
    if row is None:
        return None
    entry = dict(row)
    entry["edited"], entry["low_confidence"] = bool(entry["edited"]), bool(entry["low_confidence"])
    return entry


def passages_of(conn: sqlite3.Connection, file_id: str) -> list[dict[str, Any]]:
    """Every passage of the file (the album passage too, flagged), in time order, with what
    identification made of it: its recording, release and album."""
    rows = conn.execute(
        """SELECT p.guid AS id, p.start_time_ticks AS start_ticks, p.end_time_ticks AS end_ticks,
             p.lead_in_start_ticks, p.lead_out_start_ticks, p.title, p.user_title, p.artist, p.album,
             p.import_metadata, ip.status AS identify_status, ip.method AS identify_method,
             ip.score AS identify_score, ip.release_mbid, ip.detail AS identify_detail,
             (SELECT s.recording_mbid FROM passage_songs ps JOIN songs s ON s.guid = ps.song_id
               WHERE ps.passage_id = p.guid LIMIT 1) AS song_recording_mbid,
             ip.recording_mbid AS identify_recording_mbid,
             (SELECT a.title FROM passage_albums pa JOIN albums a ON a.guid = pa.album_id
               WHERE pa.passage_id = p.guid LIMIT 1) AS album_title
           FROM passages p LEFT JOIN wkmp_ai_identify_passages ip ON ip.passage_id = p.guid
           WHERE p.file_id = ? ORDER BY p.start_time_ticks, p.end_time_ticks""",
        (file_id,),
    ).fetchall()
    out = []
    for row in rows:
        entry = dict(row)
        try:
            meta = json.loads(entry.pop("import_metadata") or "{}")
        except ValueError:
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        entry["recording_mbid"] = entry.pop("song_recording_mbid") or entry.pop("identify_recording_mbid")
        entry.pop("identify_recording_mbid", None)
        entry["album_passage"] = bool(meta.get("album_passage"))
        entry["manually_adjusted"] = bool(meta.get("manually_adjusted"))
        segmentation = meta.get("segmentation")
        found_by = segmentation.get("boundary_source") if isinstance(segmentation, dict) else None
        # "user" once a person moved it, else what the import found: a rip's index (docs/cue.md) or silences
        entry["boundary_source"] = meta.get("boundary_source") or found_by or "silence"
        entry["lead_source"] = meta.get("lead_source") or "analysis"
        out.append(entry)
    return out


def identify_request(conn: sqlite3.Connection, file_id: str) -> tuple[str, str] | None:
    """(group key, request JSON) the file was handed to identification with, if any."""
    row = conn.execute("SELECT group_key, request FROM wkmp_ai_identify_files WHERE file_id = ?", (file_id,)).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def folder_file_ids(conn: sqlite3.Connection, file_id: str) -> list[str]:
    """The files identified with this one as an album group (same folder and album tag), in path order."""
    rows = conn.execute(
        "SELECT i.file_id FROM wkmp_ai_identify_files i JOIN files f ON f.guid = i.file_id WHERE i.group_key = "
        "(SELECT group_key FROM wkmp_ai_identify_files WHERE file_id = ?) ORDER BY f.path",
        (file_id,),
    ).fetchall()
    return [str(r[0]) for r in rows] or [file_id]


@dataclass
class PassageWrite:
    """One passage as the user wants it; ``id`` None = a new row."""

    id: str | None
    start_ticks: int
    end_ticks: int
    lead_in_start_ticks: int | None
    lead_out_start_ticks: int | None
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # merged into import_metadata
    relink: bool = False  # its boundaries moved: old song/album links go (identification re-makes them)


def replace_passages(
    conn: sqlite3.Connection, file_id: str, file_hash: str, passages: Sequence[PassageWrite]
) -> list[str]:
    """Make the file's (non-album) passages exactly ``passages``; return their ids in order.

    Kept rows keep their guid and links; rows not listed are deleted (their links go with them).
    The file is marked edited, so that imports keep this.
    """
    kept = {p.id for p in passages if p.id}
    existing = [
        str(r[0])
        for r in conn.execute(f"SELECT p.guid FROM passages p WHERE p.file_id = ? AND NOT {_ALBUM}", (file_id,))
    ]
    gone = [pid for pid in existing if pid not in kept]
    conn.executemany("DELETE FROM passages WHERE guid = ?", [(pid,) for pid in gone])
    ids = []
    for p in passages:
        meta = json.dumps(p.metadata, sort_keys=True)
        if p.id:
            conn.execute(
                "UPDATE passages SET start_time_ticks = ?, end_time_ticks = ?, lead_in_start_ticks = ?, "
                "lead_out_start_ticks = ?, import_metadata = json_patch(CASE WHEN json_valid(import_metadata) "
                "THEN import_metadata ELSE '{}' END, ?) WHERE guid = ?",
                (p.start_ticks, p.end_ticks, p.lead_in_start_ticks, p.lead_out_start_ticks, meta, p.id),
            )
            if p.relink:
                conn.execute("DELETE FROM passage_songs WHERE passage_id = ?", (p.id,))
                conn.execute("DELETE FROM passage_albums WHERE passage_id = ?", (p.id,))
            ids.append(p.id)
        else:
            guid = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO passages(guid, file_id, start_time_ticks, lead_in_start_ticks, lead_out_start_ticks, "
                "end_time_ticks, title, artist, album, import_metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guid,
                    file_id,
                    p.start_ticks,
                    p.lead_in_start_ticks,
                    p.lead_out_start_ticks,
                    p.end_ticks,
                    p.title,
                    p.artist,
                    p.album,
                    meta,
                ),
            )
            ids.append(guid)
    conn.execute(
        "INSERT INTO wkmp_ai_file_edits(file_id, hash) VALUES (?, ?) ON CONFLICT(file_id) DO UPDATE SET "
        "hash = excluded.hash, edited_at = CURRENT_TIMESTAMP, changed_on_disk = 0",
        (file_id, file_hash),
    )
    conn.execute(
        "UPDATE wkmp_ai_import_state SET passages = (SELECT count(*) FROM passages WHERE file_id = ?) "
        "WHERE file_id = ?",
        (file_id, file_id),
    )
    return ids


def current_releases(conn: sqlite3.Connection, file_id: str) -> list[str]:
    """The releases identification linked the file's passages to."""
    rows = conn.execute(
        "SELECT DISTINCT release_mbid FROM wkmp_ai_identify_passages WHERE file_id = ? AND release_mbid IS NOT NULL",
        (file_id,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def chosen_by_hand(conn: sqlite3.Connection, file_id: str) -> bool:
    """Whether a person picked a recording or release for any passage of the file."""
    row = conn.execute(
        "SELECT 1 FROM wkmp_ai_identify_passages WHERE file_id = ? AND method IN ('user', 'user-release') LIMIT 1",
        (file_id,),
    ).fetchone()
    return row is not None


def set_identify_status(conn: sqlite3.Connection, file_id: str, status: str) -> None:
    conn.execute(
        "UPDATE wkmp_ai_identify_files SET status = ?, updated_at = CURRENT_TIMESTAMP WHERE file_id = ?",
        (status, file_id),
    )


def is_edited(conn: sqlite3.Connection, file_id: str) -> bool:
    return conn.execute("SELECT 1 FROM wkmp_ai_file_edits WHERE file_id = ?", (file_id,)).fetchone() is not None


def note_changed_on_disk(conn: sqlite3.Connection, file_id: str) -> None:
    conn.execute(
        "UPDATE wkmp_ai_file_edits SET changed_on_disk = 1 WHERE file_id = ? AND hash != "
        "(SELECT hash FROM files WHERE guid = ?)",
        (file_id, file_id),
    )


def mark_candidate_chosen(conn: sqlite3.Connection, file_id: str, release_mbid: str) -> None:
    conn.execute(
        "UPDATE wkmp_ai_release_candidates SET chosen = (release_mbid = ?) WHERE file_id = ?",
        (release_mbid, file_id),
    )


def save_peaks(conn: sqlite3.Connection, file_id: str, file_hash: str, peaks: Peaks) -> None:
    conn.execute(
        "INSERT INTO wkmp_ai_peaks(file_id, hash, sample_rate, samples_per_peak, total_samples, data) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(file_id) DO UPDATE SET hash = excluded.hash, "
        "sample_rate = excluded.sample_rate, samples_per_peak = excluded.samples_per_peak, "
        "total_samples = excluded.total_samples, data = excluded.data, created_at = CURRENT_TIMESTAMP",
        (file_id, file_hash, peaks.sample_rate, peaks.samples_per_peak, peaks.total_samples, peaks.data),
    )


def load_peaks(conn: sqlite3.Connection, file_id: str, file_hash: str) -> Peaks | None:
    """The stored peaks, if they were made for the file's current content."""
    row = conn.execute(
        "SELECT sample_rate, samples_per_peak, total_samples, data FROM wkmp_ai_peaks WHERE file_id = ? AND hash = ?",
        (file_id, file_hash),
    ).fetchone()
    return None if row is None else Peaks(int(row[0]), int(row[1]), int(row[2]), bytes(row[3]))
