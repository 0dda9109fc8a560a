"""``GET /import/history`` and ``GET /import/active``: past imports and the one running now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from wkmp_ai.api.services import Services, get_services
from wkmp_ai.errors import Refused
from wkmp_ai.services.history import MAX_LIMIT, import_entry, import_history

router = APIRouter(tags=["import"])


@router.get("/import/history")
async def history(
    services: Annotated[Services, Depends(get_services)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> dict[str, Any]:
    """The last imports, newest first, each with its folder, state, parameters, summary and the files
    that came out of it by outcome (``attention``); kept in the database across restarts."""
    imports = await run_in_threadpool(import_history, services.db, services.sessions, limit)
    return {"imports": imports}


@router.get("/import/history/{session_id}", response_model=None)
async def one_import(session_id: str, services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    """One import of the history (as in the list), e.g. for its summary after a restart."""
    entry = await run_in_threadpool(import_entry, services.db, services.sessions, session_id)
    if entry is None:
        raise Refused(f"no import {session_id} in the history", error="Not Found", status=404, session_id=session_id)
    return entry


@router.get("/import/active")
def active(services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    """The import running now (``{"active": null}`` when none), so a page can show it at once."""
    session = services.sessions.active
    if session is None:
        return {"active": None}
    return {"active": {"session_id": session.id, "state": session.state.value, "started_at": session.started_at}}
