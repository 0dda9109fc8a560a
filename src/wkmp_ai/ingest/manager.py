"""Starting, finding, cancelling and forgetting import sessions (one running at a time).

The manager owns the asyncio task of the running session. Finished sessions stay answerable for an
hour (docs/design.md, *HTTP API*), then are forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from wkmp_ai.errors import ErrorCode, Refused, WkmpError
from wkmp_ai.ingest.session import ImportSession, State

__all__ = ["KEEP_FINISHED_S", "SessionConflict", "SessionManager"]

log = logging.getLogger(__name__)
KEEP_FINISHED_S = 3600.0

Runner = Callable[[ImportSession], Awaitable[None]]


class SessionConflict(Refused):
    status = 409
    error = "Import already in progress"

    def __init__(self, active_id: str):
        super().__init__(f"import {active_id} is already running", active_session_id=active_id)
        self.active_id = active_id


class SessionManager:
    def __init__(self, runner: Runner, *, keep_finished_s: float = KEEP_FINISHED_S):
        self._runner = runner
        self._keep = keep_finished_s
        self._sessions: dict[str, ImportSession] = {}
        self._finished_at: dict[str, float] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def active(self) -> ImportSession | None:
        return next((s for s in self._sessions.values() if not s.state.finished), None)

    def start(self, root_folder: Path, import_dir: Path, parameters: dict[str, Any]) -> ImportSession:
        active = self.active
        if active is not None:
            raise SessionConflict(active.id)
        session = ImportSession(root_folder=root_folder, import_dir=import_dir, parameters=parameters)
        self._sessions[session.id] = session
        self._tasks[session.id] = asyncio.create_task(self._run(session), name=f"import-{session.id}")
        return session

    async def _run(self, session: ImportSession) -> None:
        try:
            await self._runner(session)
        except asyncio.CancelledError:
            if not session.state.finished:
                session.transition(State.CANCELLED)
            raise
        except Exception as exc:  # a bug, not a file's fault: the session fails, the service stays up
            log.exception("import %s failed", session.id)
            if not session.state.finished:
                session.record_error(_code_of(exc), f"{type(exc).__name__}: {exc}")
                session.transition(State.FAILED)
        finally:
            self._finished_at[session.id] = time.monotonic()
            self._tasks.pop(session.id, None)

    def get(self, session_id: str) -> ImportSession | None:
        self._forget_old()
        return self._sessions.get(session_id)

    def kept(self) -> list[ImportSession]:
        """Every session still kept, in the order they started."""
        self._forget_old()
        return list(self._sessions.values())

    def _forget_old(self) -> None:
        now = time.monotonic()
        for session_id, ended in list(self._finished_at.items()):
            if now - ended > self._keep:
                self._sessions.pop(session_id, None)
                self._finished_at.pop(session_id, None)

    async def wait(self, session_id: str) -> None:
        task = self._tasks.get(session_id)
        if task is not None:
            await asyncio.shield(task)

    async def cancel(self, session_id: str, *, timeout: float = 10.0) -> ImportSession | None:
        """Ask the session to stop at the next file boundary and wait until it has."""
        session = self._sessions.get(session_id)
        if session is None:
            return None
        session.request_cancel()
        task = self._tasks.get(session_id)
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        return session

    async def shutdown(self) -> None:
        active = self.active
        if active is not None:
            await self.cancel(active.id)


def _code_of(exc: Exception) -> ErrorCode:
    """The code of an error that escaped the run: its own, or DATABASE_ERROR for SQLite's, else INTERNAL_ERROR."""
    if isinstance(exc, WkmpError):
        return exc.code
    if isinstance(exc, sqlite3.Error):
        return ErrorCode.DATABASE_ERROR
    return ErrorCode.INTERNAL_ERROR
