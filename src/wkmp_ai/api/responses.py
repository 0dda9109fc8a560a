"""What every answer of the API goes through (the error body itself is :func:`wkmp_ai.errors.http_body`)."""

from __future__ import annotations

from typing import Any

__all__ = ["plain"]


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
