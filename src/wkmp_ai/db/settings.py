"""The ``settings`` table: the import parameters and other key/value rows."""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from wkmp_ai import params as P

__all__ = [
    "IMPORT_PARAMETERS_KEY",
    "ensure_import_parameters",
    "get_setting",
    "load_import_parameters",
    "save_import_parameters",
    "set_setting",
]

IMPORT_PARAMETERS_KEY = "import_parameters"
log = logging.getLogger(__name__)


def get_setting(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_setting(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def load_import_parameters(conn: sqlite3.Connection) -> tuple[dict[str, Any], list[str]]:
    """Return the stored parameters with defaults for anything missing or invalid, and the warnings.

    Does not write; see :func:`ensure_import_parameters` for writing defaults when the row is missing.
    """
    raw = get_setting(conn, IMPORT_PARAMETERS_KEY)
    if raw is None:
        return P.defaults(), []
    try:
        stored = json.loads(raw)
    except json.JSONDecodeError as exc:
        return P.defaults(), [f"stored import_parameters is not valid JSON ({exc.msg}); using defaults"]
    if not isinstance(stored, dict):
        return P.defaults(), ["stored import_parameters is not a JSON object; using defaults"]
    return P.from_stored(stored)


def save_import_parameters(conn: sqlite3.Connection, values: dict[str, Any]) -> None:
    set_setting(conn, IMPORT_PARAMETERS_KEY, json.dumps(P.validate(values), sort_keys=True))


def ensure_import_parameters(conn: sqlite3.Connection) -> list[str]:
    """Write the full parameter object when the row is missing or lacks keys; return warnings.

    A stored value that cannot be used is left in place (the user may mend it) and reported;
    the defaults stand in for it until a valid update is saved.
    """
    raw = get_setting(conn, IMPORT_PARAMETERS_KEY)
    values, warnings = load_import_parameters(conn)
    if raw is None or (not warnings and json.loads(raw) != values):
        set_setting(conn, IMPORT_PARAMETERS_KEY, json.dumps(values, sort_keys=True))
    for warning in warnings:
        log.warning(warning)
    return warnings
