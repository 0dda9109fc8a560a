"""``/import/start``, ``/import/status/{id}``, ``/import/cancel/{id}`` (docs/design.md, *HTTP API*)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from wkmp_ai.api.services import Services, get_services
from wkmp_ai.services.imports import cancel_import, import_status, start_import

router = APIRouter(tags=["import"])


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo must not import the whole root

    root_folder: str | None = Field(
        default=None, description="folder to import; inside the service's root folder (default: the root itself)"
    )
    parameters: dict[str, Any] = Field(default_factory=dict, description="import parameters for this run only")


@router.post("/import/start", status_code=202)
async def start(
    services: Annotated[Services, Depends(get_services)], body: Annotated[StartRequest | None, Body()] = None
) -> dict[str, Any]:
    request = body or StartRequest()
    session = start_import(services.imports, request.root_folder, request.parameters)
    return {"session_id": session.id, "state": session.state.value, "started_at": session.started_at}


@router.get("/import/status/{session_id}")
async def status(session_id: str, services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    return import_status(services.sessions, session_id)


@router.post("/import/cancel/{session_id}")
async def cancel(session_id: str, services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    return await cancel_import(services.sessions, session_id)
