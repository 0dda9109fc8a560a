"""The releases a search by tags and names offered for each file (``wkmp_ai_release_candidates``).

Written with each identification that searched for a file (the chosen release and the others, or
all of them when none was confident enough); read by the segment editor to let the user choose
(GET /files/{id}/releases). See docs/identify.md, *Search by tags and names*.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from wkmp_ai.records.identify import FileCandidates

__all__ = ["release_candidates", "write_candidates"]


def release_candidates(conn: sqlite3.Connection, file_id: str) -> list[dict[str, Any]]:
    """The releases a search offered for a file, best first (for GET /files/{id}/releases)."""
    rows = conn.execute(
        "SELECT rank, release_mbid, recording_mbid, title, artist, release_date, track_count, country, kind, "
        "score, checked, chosen, method FROM wkmp_ai_release_candidates WHERE file_id = ? ORDER BY rank",
        (file_id,),
    ).fetchall()
    out = []
    for row in rows:
        entry = dict(zip(_CANDIDATE_COLUMNS, row, strict=True))
        entry["checked"], entry["chosen"] = bool(entry["checked"]), bool(entry["chosen"])
        out.append(entry)
    return out


_CANDIDATE_COLUMNS = (
    "rank",
    "release_mbid",
    "recording_mbid",
    "title",
    "artist",
    "release_date",
    "track_count",
    "country",
    "kind",
    "score",
    "checked",
    "chosen",
    "method",
)


def write_candidates(conn: sqlite3.Connection, candidates: FileCandidates) -> None:
    conn.execute("DELETE FROM wkmp_ai_release_candidates WHERE file_id = ?", (candidates.file_id,))
    conn.executemany(
        "INSERT INTO wkmp_ai_release_candidates(file_id, rank, release_mbid, recording_mbid, title, artist, "
        "release_date, track_count, country, kind, score, checked, chosen, method) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                candidates.file_id,
                rank,
                c.release_mbid,
                c.recording_mbid,
                c.title or c.release_mbid,
                c.artist,
                c.date,
                c.track_count,
                c.country,
                c.kind,
                min(1.0, max(0.0, c.score)),
                int(c.checked),
                int(c.chosen),
                candidates.method,
            )
            for rank, c in enumerate(candidates.releases, 1)
        ],
    )
