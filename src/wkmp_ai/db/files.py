"""Queries of the library scan: ``files``, the ``wkmp_ai_files`` side table, and cover-art ``images``.

``files`` holds what every WKMP module shares (guid, root-relative path, SHA-256, duration in
seconds, mtime as a UTC timestamp); ``wkmp_ai_files`` holds what only the scanner needs (size and
mtime in ns to skip unchanged files, the format, the tags, the cover art saved for the file).
Every function takes a connection inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "FileRecord",
    "KnownFile",
    "ScannedFile",
    "attach_art",
    "delete_files",
    "duplicate_groups",
    "find_art_in_folder",
    "forget_others",
    "load_known",
    "load_others",
    "repoint_images",
    "save_others",
    "scanned_file",
    "timestamp_from_ns",
    "touch_files",
    "upsert_files",
]


def timestamp_from_ns(mtime_ns: int) -> str:
    """``files.modification_time``: UTC ``YYYY-MM-DD HH:MM:SS`` (docs/design.md, *Database*)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(mtime_ns // 1_000_000_000))


@dataclass(frozen=True, slots=True)
class KnownFile:
    """A ``files`` row as the scanner sees it; size/mtime/format are None when it has no side row."""

    file_id: str
    rel_path: str
    hash: str
    size: int | None
    mtime_ns: int | None
    format: str | None
    art_path: str | None


def _plain(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor returning plain tuples: several times faster than ``sqlite3.Row`` for big reads."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor


def load_known(conn: sqlite3.Connection) -> dict[str, KnownFile]:
    """Every ``files`` row, keyed by path."""
    rows = _plain(conn).execute(
        "SELECT f.guid, f.path, f.hash, w.size, w.mtime_ns, w.format, w.art_path"
        " FROM files f LEFT JOIN wkmp_ai_files w ON w.file_id = f.guid"
    )
    return {row[1]: KnownFile(*row) for row in rows}


def load_others(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """Files known not to be audio: path -> (size, mtime_ns)."""
    return {
        path: (size, mtime)
        for path, size, mtime in _plain(conn).execute("SELECT path, size, mtime_ns FROM wkmp_ai_scan_others")
    }


def save_others(conn: sqlite3.Connection, others: Iterable[tuple[str, int, int]]) -> None:
    """Remember files that are not audio: (path, size, mtime_ns)."""
    conn.executemany(
        "INSERT INTO wkmp_ai_scan_others(path, size, mtime_ns) VALUES (?, ?, ?)"
        " ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns",
        others,
    )


def forget_others(conn: sqlite3.Connection, paths: Sequence[str]) -> None:
    conn.executemany("DELETE FROM wkmp_ai_scan_others WHERE path = ?", [(p,) for p in paths])


def reanalyse_beside_cue_sheets(conn: sqlite3.Connection, cue_paths: Iterable[str]) -> None:
    """A cue sheet appeared, changed or went: the audio files in its folder are analysed again
    (their passages follow the sheet, docs/cue.md). Forgetting their import state is enough."""
    folders = {p.rpartition("/")[0] for p in cue_paths}
    for folder in folders:
        prefix = f"{folder}/" if folder else ""
        conn.execute(
            """DELETE FROM wkmp_ai_import_state WHERE file_id IN (
                 SELECT guid FROM files WHERE substr(path, 1, ?) = ? AND instr(substr(path, ?), '/') = 0)""",
            (len(prefix), prefix, len(prefix) + 1),
        )


@dataclass(frozen=True)
class FileRecord:
    """What the scanner writes for one file (new, changed or moved)."""

    file_id: str
    rel_path: str
    hash: str
    duration_s: float | None
    size: int
    mtime_ns: int
    format: str
    tags_json: str | None
    art_path: str | None = None
    art_width: int | None = None
    art_height: int | None = None
    art_source: str | None = None
    art_hash: str | None = None


def upsert_files(conn: sqlite3.Connection, records: Sequence[FileRecord]) -> None:
    """Insert new files, or update path/hash/duration/mtime of existing guids; their side rows too."""
    conn.executemany(
        "INSERT INTO files(guid, path, hash, duration, modification_time) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(guid) DO UPDATE SET path = excluded.path, hash = excluded.hash,"
        " duration = excluded.duration, modification_time = excluded.modification_time",
        [
            (r.file_id, r.rel_path, r.hash, r.duration_s if r.duration_s and r.duration_s > 0 else None,
             timestamp_from_ns(r.mtime_ns))
            for r in records
        ],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO wkmp_ai_files(file_id, size, mtime_ns, format, tags, art_path, art_width, art_height,"
        " art_source, art_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(file_id) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
        " format = excluded.format, tags = excluded.tags, art_path = excluded.art_path,"
        " art_width = excluded.art_width, art_height = excluded.art_height, art_source = excluded.art_source,"
        " art_hash = excluded.art_hash, scanned_at = CURRENT_TIMESTAMP",
        [
            (r.file_id, r.size, r.mtime_ns, r.format, r.tags_json, r.art_path, r.art_width, r.art_height,
             r.art_source, r.art_hash)
            for r in records
        ],
    )  # fmt: skip


def touch_files(conn: sqlite3.Connection, touched: Iterable[tuple[str, int, int, str]]) -> None:
    """Record a new size/mtime for files whose bytes did not change: (file_id, size, mtime_ns, format)."""
    rows = list(touched)
    conn.executemany(
        "UPDATE files SET modification_time = ? WHERE guid = ?", [(timestamp_from_ns(m), fid) for fid, _, m, _ in rows]
    )
    conn.executemany(
        "INSERT INTO wkmp_ai_files(file_id, size, mtime_ns, format) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(file_id) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns",
        rows,
    )


def delete_files(conn: sqlite3.Connection, file_ids: Sequence[str]) -> int:
    """Delete files (their passages and links go by cascade) and the images of their passages."""
    if not file_ids:
        return 0
    marks = ",".join("?" * len(file_ids))
    conn.execute(
        f"DELETE FROM images WHERE entity_id IN (SELECT guid FROM passages WHERE file_id IN ({marks}))", file_ids
    )
    return conn.execute(f"DELETE FROM files WHERE guid IN ({marks})", file_ids).rowcount


def repoint_images(conn: sqlite3.Connection, file_id: str, old_path: str, new_path: str) -> None:
    """A moved file's art moved too: images of its passages follow."""
    conn.execute(
        "UPDATE images SET file_path = ? WHERE file_path = ?"
        " AND entity_id IN (SELECT guid FROM passages WHERE file_id = ?)",
        (new_path, old_path, file_id),
    )


def find_art_in_folder(conn: sqlite3.Connection, folder: str, art_hash: str) -> tuple[str, int, int] | None:
    """An image already saved in ``folder`` (root-relative, ending with ``/`` or empty) for this source."""
    for art_path, width, height in conn.execute(
        "SELECT art_path, art_width, art_height FROM wkmp_ai_files WHERE art_hash = ? AND art_path IS NOT NULL",
        (art_hash,),
    ):
        if art_path.rpartition("/")[0] + ("/" if "/" in art_path else "") == folder:
            return art_path, width, height
    return None


def duplicate_groups(conn: sqlite3.Connection, hashes: Iterable[str] | None = None) -> list[list[str]]:
    """Paths that share their content, one sorted list per hash (optionally only these hashes)."""
    rows = conn.execute(
        "SELECT hash, path FROM files WHERE hash IN (SELECT hash FROM files GROUP BY hash HAVING count(*) > 1)"
    )
    wanted = None if hashes is None else set(hashes)
    groups: dict[str, list[str]] = {}
    for digest, path in rows:
        if wanted is None or digest in wanted:
            groups.setdefault(digest, []).append(path)
    return sorted(sorted(paths) for paths in groups.values())


@dataclass(frozen=True)
class ScannedFile:
    """What the scan recorded for one file, for the import session."""

    file_id: str
    rel_path: str
    hash: str
    duration_s: float | None
    size: int | None
    mtime_ns: int | None
    format: str | None
    tags_json: str | None
    art_path: str | None
    art_width: int | None
    art_height: int | None


def scanned_file(conn: sqlite3.Connection, file_id: str) -> ScannedFile | None:
    row = conn.execute(
        "SELECT f.guid, f.path, f.hash, f.duration, w.size, w.mtime_ns, w.format, w.tags, w.art_path,"
        " w.art_width, w.art_height FROM files f LEFT JOIN wkmp_ai_files w ON w.file_id = f.guid WHERE f.guid = ?",
        (file_id,),
    ).fetchone()
    return None if row is None else ScannedFile(*row)


def attach_art(
    conn: sqlite3.Connection, file_id: str, *, passage_ids: Sequence[str], album_id: str | None = None
) -> list[str]:
    """Write the ``images`` rows for the cover art the scan saved for ``file_id``; idempotent.

    ``image_type='album_front'``; ``entity_id`` = ``album_id`` when given, else each passage guid
    (docs/scan.md, *Cover art*). Returns the guids of the rows (existing or new); empty when the file has
    no art (the caller may then report ``MISSING_ALBUM_ART``). Call it in the transaction that
    writes the file's passages.
    """
    row = conn.execute(
        "SELECT art_path, art_width, art_height FROM wkmp_ai_files WHERE file_id = ?", (file_id,)
    ).fetchone()
    if row is None or row[0] is None:
        return []
    art_path, width, height = row
    entities = [album_id] if album_id is not None else list(dict.fromkeys(passage_ids))
    guids: list[str] = []
    for entity in entities:
        existing = conn.execute(
            "SELECT guid FROM images WHERE entity_id = ? AND image_type = 'album_front' AND file_path = ?",
            (entity, art_path),
        ).fetchone()
        if existing is not None:
            guids.append(existing[0])
            continue
        guid = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO images(guid, file_path, image_type, entity_id, width, height)"
            " VALUES (?, ?, 'album_front', ?, ?, ?)",
            (guid, art_path, entity, width, height),
        )
        guids.append(guid)
    return guids
