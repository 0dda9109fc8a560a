"""``GET/POST /parameters/global``: the import parameters stored in ``settings``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from wkmp_ai.api.services import Services, get_services
from wkmp_ai.services.parameters import read_parameters, update_parameters

router = APIRouter(tags=["parameters"])


@router.get("/parameters/global")
def get_parameters(services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    values, _warnings = read_parameters(services.db)
    return values


@router.post("/parameters/global")
def post_parameters(
    services: Annotated[Services, Depends(get_services)],
    update: Annotated[dict[str, Any], Body(examples=[{"lead_in_threshold_db": -10.0}])],
) -> dict[str, Any]:
    """Merge a partial object into the stored parameters; nothing is saved if any key is invalid."""
    return {"status": "updated", "parameters": update_parameters(services.db, update)}
