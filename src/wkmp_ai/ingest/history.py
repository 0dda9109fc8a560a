"""Each import's row in the history table: written when it starts and when it ends.

The end is learnt from the session's own event log (its ``completed`` event), so that every way a
session ends — completed, cancelled, failed, or the service shutting down — is recorded alike. With
the summary goes what came out of the import: the files identified, partly identified, still
pending, without a match, failed in analysis, and skipped (each with its reason), so the wizard and
``wkmp-ai import`` can list the files that need attention long after the session is forgotten.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from wkmp_ai.db import history as q
from wkmp_ai.errors import ErrorCode, IngestError, error_label
from wkmp_ai.events import EventType
from wkmp_ai.ingest.session import ImportSession

__all__ = ["attention", "finish_record", "start_record", "wait_and_record"]

log = logging.getLogger(__name__)

# Warnings that still mean the file was not imported (the others leave it imported, with a remark).
NOT_IMPORTED = {ErrorCode.NOT_AUDIO.value, ErrorCode.PATH_OUTSIDE_ROOT.value, ErrorCode.SYMLINK_LOOP.value}


def _relative_folder(session: ImportSession) -> str:
    rel = session.import_dir.resolve().relative_to(session.root_folder.resolve()).as_posix()
    return "" if rel == "." else rel


def _sql_time(iso: str) -> str:
    """``2026-01-02T03:04:05Z`` → ``2026-01-02 03:04:05`` (how SQLite's CURRENT_TIMESTAMP writes it)."""
    return iso.replace("T", " ").rstrip("Z")


def start_record(conn: sqlite3.Connection, session: ImportSession) -> None:
    q.start_import(
        conn, session.id, _relative_folder(session), session.state.value, session.started_at, session.parameters
    )


def attention(conn: sqlite3.Connection, session: ImportSession) -> dict[str, Any]:
    """What the import produced, by outcome; ``skipped`` are the files the session skipped, with the reason."""
    out = q.outcome_since(conn, _sql_time(session.started_at))
    for failed in out["failed"]["files"]:
        failed["label"] = error_label(failed["code"])  # what people read; the code is for programs
    skipped: dict[str, Any] = {"count": 0, "files": []}
    seen = {f["path"] for f in out["failed"]["files"]}  # listed there already, with the reason
    for error in session.errors:
        skips = error.severity == "skip_file" or error.error_code in NOT_IMPORTED
        if not skips or not error.file_path or error.file_path in seen:
            continue
        seen.add(error.file_path)
        skipped["count"] += 1
        if len(skipped["files"]) < q.ATTENTION_LIMIT:
            skipped["files"].append(
                {
                    "path": error.file_path,
                    "code": error.error_code,
                    "label": error_label(error.error_code),
                    "reason": error.error_message,
                }
            )
    out["skipped"] = skipped
    return out


def finish_record(conn: sqlite3.Connection, session: ImportSession) -> dict[str, Any]:
    outcome = attention(conn, session)
    q.finish_import(conn, session.id, session.state.value, session.finished_at or "", session.summary(), outcome)
    return outcome


async def wait_and_record(session: ImportSession, write: Any) -> None:
    """Wait for the session's end, then write its summary with ``write(fn, *args)`` (the writer thread)."""
    async for event in session.events.follow(session.events.last_id, wait_s=60.0):
        if event is not None and event.type is EventType.COMPLETED:
            break
    try:
        await write(finish_record, session)
    except IngestError as exc:  # e.g. the disk filled up: the import's own errors already say so
        log.warning("import %s: its history row could not be completed: %s", session.id, exc.detail)
