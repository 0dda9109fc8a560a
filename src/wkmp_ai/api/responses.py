"""What several routes answer alike: error bodies and the parameters a request runs with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

from wkmp_ai import params as P
from wkmp_ai.api.services import Services
from wkmp_ai.db.settings import load_import_parameters

__all__ = ["error_response", "invalid_parameters", "parameters_with", "plain"]


def plain(value: Any) -> Any:
    """``value`` with every string made encodable: a request may carry lone surrogates (``"\\udc80"``
    is valid JSON text) that an error message echoes, and UTF-8 cannot hold them."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def error_response(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    """The API's error body: ``{"error": ..., "message": ..., **extra}``."""
    return JSONResponse(plain({"error": error, "message": message, **extra}), status_code=status)


def invalid_parameters(exc: P.ParameterError) -> JSONResponse:
    """400 with one message per offending key."""
    return error_response(400, "invalid_parameters", str(exc), errors=exc.errors)


def parameters_with(services: Services, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored import parameters with a request's overrides; raises :class:`~wkmp_ai.params.ParameterError`."""
    with services.db.read() as conn:
        stored, _warnings = load_import_parameters(conn)
    return P.merge_update(stored, overrides or {})
