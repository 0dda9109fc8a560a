"""``GET /parameters/schema``: how the wizard shows and checks each import parameter, and the presets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wkmp_ai.services.parameter_schema import parameter_schema

router = APIRouter(tags=["parameters"])


@router.get("/parameters/schema")
def schema() -> dict[str, Any]:
    """Each parameter's label, type, unit, range, step, default and meaning; the source-media and genre
    presets (apply one with ``POST /parameters/global``); the defaults (for "reset to defaults")."""
    return parameter_schema()
