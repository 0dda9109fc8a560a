"""SQL of the import pipeline: what still needs work, and a file's analysis written in one go.

``write_file_analysis`` replaces a file's passages and records its state in the caller's
transaction, so a file is either wholly written or not at all; a crash between files leaves
nothing half-done, and the next run finds exactly the files whose state does not match their
current content.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wkmp_ai.db.editor import note_changed_on_disk, save_peaks
from wkmp_ai.db.files import attach_art
from wkmp_ai.records.analysis import FileAnalysis, PassageAnalysis
from wkmp_ai.records.identify import AlbumIdentification, PassageStatus

__all__ = [
    "PassageText",
    "WorkItem",
    "attach_album_art",
    "count_failed_unchanged",
    "files_needing_work",
    "files_needing_work_in",
    "keep_edited_file",
    "mark_failed",
    "write_file_analysis",
]


@dataclass(frozen=True)
class WorkItem:
    file_id: str
    rel_path: str
    hash: str
    duration_s: float | None


@dataclass(frozen=True)
class PassageText:
    """What the passage rows show before identification: from tags, with the fallbacks of docs/scan.md, *Tags*."""

    title: str | None
    artist: str | None
    album: str | None


def _under(prefix: str) -> tuple[str, tuple[str, ...]]:
    """SQL condition and parameters for paths at or under the root-relative folder ``prefix``."""
    if prefix in ("", "."):
        return "1", ()
    folder = prefix.rstrip("/") + "/"
    return "substr(f.path, 1, ?) = ?", (str(len(folder)), folder)


def files_needing_work(conn: sqlite3.Connection, prefix: str) -> list[WorkItem]:
    """Files under ``prefix`` never analysed, or analysed for other content (the hash changed).

    A file that failed and has not changed is not retried: it would fail the same way.
    Ordered by path, so the files of one album folder come together.
    """
    where, params = _under(prefix)
    return _needing_work(conn, where, params)


def files_needing_work_in(conn: sqlite3.Connection, folder: str) -> list[WorkItem]:
    """:func:`files_needing_work` of the files right in ``folder`` (root-relative; "" for the root), not below it.

    Asked once a folder during an import, so it reads a range of the path index ("A/" ≤ path <
    "A0": '0' follows '/'), not the whole table."""
    low, high = (folder + "/", folder + "0") if folder else ("", "\U0010ffff")
    in_folder = "f.path >= ? AND f.path < ? AND instr(substr(f.path, ?), '/') = 0"
    return _needing_work(conn, in_folder, (low, high, len(low) + 1))


def _needing_work(conn: sqlite3.Connection, where: str, params: tuple[object, ...]) -> list[WorkItem]:
    rows = conn.execute(
        f"""SELECT f.guid, f.path, f.hash, f.duration FROM files f
            LEFT JOIN wkmp_ai_import_state s ON s.file_id = f.guid
            WHERE {where} AND (s.file_id IS NULL OR s.hash != f.hash)
            ORDER BY f.path""",
        params,
    )
    return [WorkItem(r[0], r[1], r[2], r[3]) for r in rows]


def count_failed_unchanged(conn: sqlite3.Connection, prefix: str) -> int:
    where, params = _under(prefix)
    row = conn.execute(
        f"""SELECT count(*) FROM files f JOIN wkmp_ai_import_state s ON s.file_id = f.guid
            WHERE {where} AND s.status = 'failed' AND s.hash = f.hash""",
        params,
    ).fetchone()
    return int(row[0])


def _passage_row(
    file_id: str, p: PassageAnalysis, text: PassageText, extra_metadata: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    metadata: dict[str, Any] = dict(p.import_metadata)
    if p.fingerprint:
        metadata["fingerprint"] = {"duration_s": p.fingerprint_duration_s}
    flavor = p.flavor or {}
    if flavor:
        metadata["flavor"] = {k: v for k, v in flavor.items() if k not in {"vector", "additional_metadata"}}
    metadata.update(extra_metadata or {})
    vector = flavor.get("vector")
    additional = flavor.get("additional_metadata")
    return (
        str(uuid.uuid4()),
        file_id,
        p.start_ticks,
        p.lead_in_start_ticks,
        p.lead_out_start_ticks,
        p.end_ticks,
        text.title,
        text.artist,
        text.album,
        json.dumps(vector, sort_keys=True) if vector else None,
        json.dumps(metadata, sort_keys=True),
        json.dumps(additional, sort_keys=True) if additional else None,
    )


_INSERT_PASSAGE = """INSERT INTO passages(guid, file_id, start_time_ticks, lead_in_start_ticks, lead_out_start_ticks,
    end_time_ticks, title, artist, album, musical_flavor_vector, import_metadata, additional_metadata)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def write_file_analysis(
    conn: sqlite3.Connection,
    item: WorkItem,
    analysis: FileAnalysis,
    text: PassageText,
    *,
    create_album_passage: bool = False,
    texts: Sequence[PassageText] | None = None,
) -> list[str]:
    """Replace the file's passages with the analysis' ones and mark the file analysed.

    ``texts`` gives each passage its own title/artist/album (a rip's track index, docs/cue.md);
    otherwise a file of several passages titles them "Title (1/3)" …
    Returns the new passage guids in order (the whole-file album passage, if made, last).
    """
    conn.execute("DELETE FROM passages WHERE file_id = ?", (item.file_id,))
    many = len(analysis.passages) > 1
    rows = []
    for index, passage in enumerate(analysis.passages, start=1):
        if texts is not None and len(texts) == len(analysis.passages):
            rows.append(_passage_row(item.file_id, passage, texts[index - 1]))
            continue
        title = f"{text.title} ({index}/{len(analysis.passages)})" if many and text.title else text.title
        rows.append(_passage_row(item.file_id, passage, PassageText(title, text.artist, text.album)))
    if many and create_album_passage:
        first, last = analysis.passages[0], analysis.passages[-1]
        album_text = PassageText(text.album or text.title, text.artist, text.album)
        rows.append(
            (
                str(uuid.uuid4()),
                item.file_id,
                first.start_ticks,
                first.lead_in_start_ticks,
                last.lead_out_start_ticks,
                last.end_ticks,
                album_text.title,
                album_text.artist,
                album_text.album,
                None,
                json.dumps({"album_passage": True, "passages": len(analysis.passages)}),
                None,
            )
        )
    conn.executemany(_INSERT_PASSAGE, rows)
    if analysis.duration_s > 0:
        conn.execute("UPDATE files SET duration = ? WHERE guid = ?", (analysis.duration_s, item.file_id))
    if analysis.peaks is not None:
        save_peaks(conn, item.file_id, item.hash, analysis.peaks)
    _set_state(conn, item, "analysed", passages=len(rows))
    return [row[0] for row in rows]


def keep_edited_file(conn: sqlite3.Connection, item: WorkItem, analysis: FileAnalysis) -> None:
    """A file whose passages a person edited, analysed again (its content changed): the passages
    stay as they were edited; only the duration, the peaks and the state follow the new content."""
    if analysis.duration_s > 0:
        conn.execute("UPDATE files SET duration = ? WHERE guid = ?", (analysis.duration_s, item.file_id))
    if analysis.peaks is not None:
        save_peaks(conn, item.file_id, item.hash, analysis.peaks)
    note_changed_on_disk(conn, item.file_id)
    count = conn.execute("SELECT count(*) FROM passages WHERE file_id = ?", (item.file_id,)).fetchone()[0]
    _set_state(conn, item, "analysed", passages=int(count))


def mark_failed(conn: sqlite3.Connection, item: WorkItem, code: str, message: str) -> None:
    """Record that this content cannot be analysed; its old passages (of other content) go, and so
    does the duration its header claimed: only a decode measures it (a header may say 18 days)."""
    conn.execute("DELETE FROM passages WHERE file_id = ?", (item.file_id,))
    conn.execute("UPDATE files SET duration = NULL WHERE guid = ?", (item.file_id,))
    _set_state(conn, item, "failed", error_code=code, error_message=message)


def _set_state(
    conn: sqlite3.Connection,
    item: WorkItem,
    status: str,
    *,
    passages: int = 0,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    conn.execute(
        """INSERT INTO wkmp_ai_import_state(file_id, hash, status, error_code, error_message, passages, analysed_at)
           VALUES (?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)
           ON CONFLICT(file_id) DO UPDATE SET hash = excluded.hash, status = excluded.status,
             error_code = excluded.error_code, error_message = excluded.error_message,
             passages = excluded.passages, analysed_at = excluded.analysed_at""",
        (item.file_id, item.hash, status, error_code, error_message, passages),
    )


def passage_ids(conn: sqlite3.Connection, file_id: str) -> Sequence[str]:
    return [
        r[0] for r in conn.execute("SELECT guid FROM passages WHERE file_id = ? ORDER BY start_time_ticks", (file_id,))
    ]


def attach_album_art(conn: sqlite3.Connection, result: AlbumIdentification) -> None:
    """Give each album a group was linked to the cover art the scan found for its files.

    The scan's art first went to the passages (no album was known then); once a release is
    chosen, the same picture also becomes that album's front image (docs/scan.md, *Cover art*).
    """
    releases = {
        p.file_id: p.release_mbid for p in result.passages if p.status is PassageStatus.IDENTIFIED and p.release_mbid
    }
    for file_id, release_mbid in releases.items():
        row = conn.execute("SELECT guid FROM albums WHERE album_mbid = ?", (release_mbid,)).fetchone()
        if row is not None:
            attach_art(conn, file_id, passage_ids=(), album_id=row[0])
