"""The import parameters stored in ``wkmp.db``: read, update, and a request's overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wkmp_ai import params as P
from wkmp_ai.db.connection import Database
from wkmp_ai.db.settings import load_import_parameters, save_import_parameters

__all__ = ["parameters_with", "read_parameters", "update_parameters"]


def read_parameters(db: Database) -> tuple[dict[str, Any], list[str]]:
    """The stored parameters (defaults for anything missing or unusable) and what was wrong."""
    with db.read() as conn:
        return load_import_parameters(conn)


def update_parameters(db: Database, update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``update`` into the stored parameters and save them in one transaction; return them all.

    Nothing is saved when any key is unknown or any value out of range
    (:class:`~wkmp_ai.params.ParameterError`, one message per key).
    """
    with db.write() as conn:
        current, _warnings = load_import_parameters(conn)
        merged = P.merge_update(current, update)
        save_import_parameters(conn, merged)
    return merged


def parameters_with(db: Database, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored parameters with a request's overrides, for that request only (nothing is saved)."""
    stored, _warnings = read_parameters(db)
    return P.merge_update(stored, overrides or {})
