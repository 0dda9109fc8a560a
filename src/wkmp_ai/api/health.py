"""``GET /health`` (docs/design.md, *HTTP API*): answers without touching the database, so it stays fast."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from wkmp_ai import MODULE_NAME, __version__
from wkmp_ai.api.services import Services, get_services

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    return {
        "status": "healthy",
        "module": MODULE_NAME,
        "version": __version__,
        "uptime_seconds": round(services.uptime_seconds, 3),
    }
