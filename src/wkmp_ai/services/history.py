"""The import history: past imports with their summaries, newest first (``GET /import/history``)."""

from __future__ import annotations

from typing import Any

from wkmp_ai.db import Database
from wkmp_ai.db import history as q
from wkmp_ai.ingest.manager import SessionManager

__all__ = ["MAX_LIMIT", "import_entry", "import_history"]

MAX_LIMIT = 100


def import_entry(db: Database, sessions: SessionManager, session_id: str) -> dict[str, Any] | None:
    with db.read() as conn:
        rows = q.list_imports(conn, 1, session_id=session_id)
    return _with_live(rows, sessions)[0] if rows else None


def import_history(db: Database, sessions: SessionManager, limit: int) -> list[dict[str, Any]]:
    """The last ``limit`` imports; the running one carries its live progress instead of a summary."""
    with db.read() as conn:
        rows = q.list_imports(conn, limit)
    return _with_live(rows, sessions)


def _with_live(rows: list[dict[str, Any]], sessions: SessionManager) -> list[dict[str, Any]]:
    active = sessions.active
    for row in rows:
        row["running"] = active is not None and row["session_id"] == active.id
        # its full status (every error) is still answered by /import/status for an hour after the end
        row["status_available"] = sessions.get(row["session_id"]) is not None
        if row["running"] and active is not None:
            row["state"] = active.state.value
            row["progress"] = active.progress()
    return rows
