"""``GET/POST /parameters/global``: the import parameters stored in ``settings``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse

from wkmp_ai import params as P
from wkmp_ai.api.responses import invalid_parameters
from wkmp_ai.api.services import Services, get_services
from wkmp_ai.db.settings import load_import_parameters, save_import_parameters

router = APIRouter(tags=["parameters"])


@router.get("/parameters/global")
def get_parameters(services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    with services.db.read() as conn:
        values, _warnings = load_import_parameters(conn)
    return values


@router.post("/parameters/global", response_model=None)
def update_parameters(
    services: Annotated[Services, Depends(get_services)],
    update: Annotated[dict[str, Any], Body(examples=[{"lead_in_threshold_db": -10.0}])],
) -> dict[str, Any] | JSONResponse:
    """Merge a partial object into the stored parameters; nothing is saved if any key is invalid."""
    try:
        with services.db.write() as conn:
            current, _warnings = load_import_parameters(conn)
            merged = P.merge_update(current, update)
            save_import_parameters(conn, merged)
    except P.ParameterError as exc:
        return invalid_parameters(exc)
    return {"status": "updated", "parameters": merged}
