"""``GET /services/status``: can the web services an import uses be reached, is an AcoustID key set."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from wkmp_ai.api.services import Services, get_services

router = APIRouter(tags=["wizard"])


@router.get("/services/status")
async def services_status(services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    """Per service ``{"url", "reachable", "checked_at", "rate_per_s"}`` (``acoustid`` adds ``api_key_set``);
    ``reachable`` is null until the first probe answers; probes are kept for a minute."""
    return await services.service_status.status()
