"""``GET /folders``: the folder browser of the import wizard (:mod:`wkmp_ai.services.folders`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from wkmp_ai.api.responses import error_response
from wkmp_ai.api.services import Services, get_services
from wkmp_ai.services.folders import FolderCounter, FolderError, list_folders

router = APIRouter(tags=["wizard"])


@router.get("/folders", response_model=None)
async def folders(
    services: Annotated[Services, Depends(get_services)],
    path: Annotated[str, Query(description="folder relative to the root folder; empty for the root")] = "",
) -> dict[str, Any] | JSONResponse:
    """The sub-folders of ``path`` with how many audio files each holds (``null`` while still counting)."""
    counter = services.extras.setdefault("folder_counter", FolderCounter())
    try:
        return await run_in_threadpool(list_folders, services.settings.root_folder, path, counter)
    except FolderError as exc:
        return error_response(400, "invalid_folder", str(exc), path=path)
