"""Queries of the import history (``wkmp_ai_import_history``) and of what one import produced."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

__all__ = [
    "ATTENTION_LIMIT",
    "close_interrupted",
    "finish_import",
    "list_imports",
    "outcome_since",
    "start_import",
]

ATTENTION_LIMIT = 1000  # files listed per outcome; the count is always complete


def start_import(
    conn: sqlite3.Connection, session_id: str, folder: str, state: str, started_at: str, parameters: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO wkmp_ai_import_history(session_id, folder, state, started_at, parameters) "
        "VALUES (?, ?, ?, ?, ?)",
        (session_id, folder, state, started_at, json.dumps(parameters, sort_keys=True)),
    )


def finish_import(
    conn: sqlite3.Connection,
    session_id: str,
    state: str,
    finished_at: str,
    summary: dict[str, Any],
    attention: dict[str, Any],
) -> None:
    conn.execute(
        "UPDATE wkmp_ai_import_history SET state = ?, finished_at = ?, summary = ?, attention = ? WHERE session_id = ?",
        (state, finished_at, json.dumps(summary), json.dumps(attention), session_id),
    )


def close_interrupted(conn: sqlite3.Connection, now: str) -> int:
    """Close the rows of imports that never finished (the process was killed); return how many."""
    cursor = conn.execute(
        "UPDATE wkmp_ai_import_history SET state = 'INTERRUPTED', finished_at = ? WHERE finished_at IS NULL", (now,)
    )
    return cursor.rowcount


def list_imports(conn: sqlite3.Connection, limit: int, *, session_id: str | None = None) -> list[dict[str, Any]]:
    """The last ``limit`` imports, newest first (or the one ``session_id``)."""
    where, args = ("WHERE session_id = ?", (session_id,)) if session_id else ("", ())
    rows = conn.execute(
        "SELECT session_id, folder, state, started_at, finished_at, parameters, summary, attention "
        f"FROM wkmp_ai_import_history {where} ORDER BY started_at DESC, rowid DESC LIMIT ?",
        (*args, limit),
    ).fetchall()
    return [
        {
            "session_id": r[0],
            "folder": r[1],
            "state": r[2],
            "started_at": r[3],
            "finished_at": r[4],
            "parameters": json.loads(r[5]),
            "summary": json.loads(r[6]) if r[6] else None,
            "attention": json.loads(r[7]) if r[7] else None,
        }
        for r in rows
    ]


def outcome_since(conn: sqlite3.Connection, since: str) -> dict[str, dict[str, Any]]:
    """Files whose identification or analysis was decided at or after ``since`` (``YYYY-MM-DD HH:MM:SS``,
    UTC), by outcome: ``identified``, ``partial``, ``pending``, ``no_match`` and ``failed``; each
    ``{"count", "files": [{"file_id", "path", "passages", ...}]}`` in path order."""
    out: dict[str, dict[str, Any]] = {
        k: {"count": 0, "files": []} for k in ("identified", "partial", "pending", "no_match", "failed")
    }
    rows = conn.execute(
        """SELECT f.guid, f.path, s.status, (SELECT COUNT(*) FROM passages p WHERE p.file_id = f.guid)
           FROM wkmp_ai_identify_files s JOIN files f ON f.guid = s.file_id
           WHERE s.updated_at >= ? ORDER BY f.path""",
        (since,),
    )
    for file_id, path, status, passages in rows:
        _add(out[status], {"file_id": file_id, "path": path, "passages": passages})
    failed = conn.execute(
        """SELECT f.guid, f.path, s.error_code, s.error_message
           FROM wkmp_ai_import_state s JOIN files f ON f.guid = s.file_id
           WHERE s.status = 'failed' AND s.analysed_at >= ? ORDER BY f.path""",
        (since,),
    )
    for file_id, path, code, message in failed:
        _add(out["failed"], {"file_id": file_id, "path": path, "passages": 0, "code": code, "reason": message})
    return out


def _add(bucket: dict[str, Any], item: dict[str, Any]) -> None:
    bucket["count"] += 1
    if len(bucket["files"]) < ATTENTION_LIMIT:
        bucket["files"].append(item)
