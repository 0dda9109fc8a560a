"""``/import/start``, ``/import/status/{id}``, ``/import/cancel/{id}`` (IMPL008, DECISIONS.md #4)."""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wkmp_ai import params as P
from wkmp_ai.api.responses import error_response, invalid_parameters, parameters_with
from wkmp_ai.api.services import Services, get_services
from wkmp_ai.config import resolve_inside_root
from wkmp_ai.errors import plain_message
from wkmp_ai.ingest.manager import SessionConflict

router = APIRouter(tags=["import"])


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo must not import the whole root

    root_folder: str | None = Field(
        default=None, description="folder to import; inside the service's root folder (default: the root itself)"
    )
    parameters: dict[str, Any] = Field(default_factory=dict, description="import parameters for this run only")


@router.post("/import/start", status_code=202, response_model=None)
async def start_import(
    services: Annotated[Services, Depends(get_services)], body: Annotated[StartRequest | None, Body()] = None
) -> dict[str, Any] | JSONResponse:
    request = body or StartRequest()
    root = services.settings.root_folder
    try:
        folder = resolve_inside_root(root, request.root_folder or root)
    except ValueError as exc:
        return error_response(400, "invalid_root_folder", str(exc))
    try:
        is_dir = folder.is_dir()
    except OSError as exc:
        return error_response(400, "invalid_root_folder", f"{request.root_folder}: {plain_message(exc)}")
    if not is_dir:
        return error_response(400, "invalid_root_folder", f"{request.root_folder} is not a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        return error_response(400, "invalid_root_folder", f"{request.root_folder} cannot be read")
    try:
        parameters = parameters_with(services, request.parameters)
    except P.ParameterError as exc:
        return invalid_parameters(exc)
    try:
        session = services.sessions.start(root, folder, parameters)
    except SessionConflict as exc:
        return error_response(409, "Import already in progress", str(exc), active_session_id=exc.active_id)
    return {"session_id": session.id, "state": session.state.value, "started_at": session.started_at}


@router.get("/import/status/{session_id}", response_model=None)
async def import_status(
    session_id: str, services: Annotated[Services, Depends(get_services)]
) -> dict[str, Any] | JSONResponse:
    session = services.sessions.get(session_id)
    if session is None:
        return error_response(404, "Not Found", f"no import session {session_id}", session_id=session_id)
    return session.status()


@router.post("/import/cancel/{session_id}", response_model=None)
async def cancel_import(
    session_id: str, services: Annotated[Services, Depends(get_services)]
) -> dict[str, Any] | JSONResponse:
    session = services.sessions.get(session_id)
    if session is None:
        return error_response(404, "Not Found", f"no import session {session_id}", session_id=session_id)
    if session.state.finished:
        return error_response(
            409, "Import already finished", f"session is {session.state.value}", state=session.state.value
        )
    await services.sessions.cancel(session_id)
    return {
        "session_id": session.id,
        "state": session.state.value,
        "files_processed": session.succeeded,
        "files_skipped": session.total - session.current,
        "cancelled_at": session.finished_at,
    }
