"""``GET /folders``: the folder browser of the import wizard (:mod:`wkmp_ai.services.browse`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from wkmp_ai.api.services import Services, get_services
from wkmp_ai.services.browse import list_folders

router = APIRouter(tags=["wizard"])


@router.get("/folders", response_model=None)
async def folders(
    services: Annotated[Services, Depends(get_services)],
    path: Annotated[str, Query(description="folder relative to the root folder; empty for the root")] = "",
) -> dict[str, Any]:
    """The sub-folders of ``path`` with how many audio files each holds (``null`` while still counting)."""
    return await run_in_threadpool(list_folders, services.settings.root_folder, path, services.folder_counter)
