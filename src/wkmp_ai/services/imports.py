"""Import sessions as the API and the command line start, follow and cancel them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wkmp_ai.config import PathRefused
from wkmp_ai.errors import Refused
from wkmp_ai.ingest.manager import SessionManager
from wkmp_ai.ingest.pipeline import ImportService
from wkmp_ai.ingest.session import ImportSession
from wkmp_ai.services.folders import FOLDER_REFUSED, resolve_import_folder
from wkmp_ai.services.parameters import parameters_with

__all__ = ["cancel_import", "find_session", "import_status", "start_import"]


def start_import(
    imports: ImportService, folder: str | None, overrides: Mapping[str, Any] | None = None
) -> ImportSession:
    """Start importing ``folder`` (inside the root; None: the root) with the stored parameters and
    ``overrides``. Raises :class:`Refused`: a folder that cannot be imported, parameters out of
    range, or :class:`~wkmp_ai.ingest.manager.SessionConflict` when an import is running."""
    root = imports.settings.root_folder
    try:
        directory = resolve_import_folder(root, folder)
    except PathRefused as exc:
        raise Refused(exc.detail, error=FOLDER_REFUSED) from exc
    parameters = parameters_with(imports.db, overrides)
    return imports.sessions.start(root, directory, parameters)


def find_session(sessions: SessionManager, session_id: str) -> ImportSession:
    session = sessions.get(session_id)
    if session is None:
        raise Refused(f"no import session {session_id}", error="Not Found", status=404, session_id=session_id)
    return session


def import_status(sessions: SessionManager, session_id: str) -> dict[str, Any]:
    return find_session(sessions, session_id).status()


async def cancel_import(sessions: SessionManager, session_id: str) -> dict[str, Any]:
    """Stop a running import at the next file boundary and say where it stopped."""
    session = find_session(sessions, session_id)
    if session.state.finished:
        raise Refused(
            f"session is {session.state.value}", error="Import already finished", status=409, state=session.state.value
        )
    await sessions.cancel(session_id)
    return {
        "session_id": session.id,
        "state": session.state.value,
        "files_processed": session.succeeded,
        "files_skipped": session.total - session.current,
        "cancelled_at": session.finished_at,
    }
