"""Creating the schema at start-up, idempotently (docs/design.md, *Database*)."""

from __future__ import annotations

import sqlite3
from importlib import resources

from wkmp_ai import MODULE_NAME

__all__ = ["SCHEMA_VERSION", "ensure_schema"]

SCHEMA_VERSION = 1


def _script(name: str) -> str:
    return resources.files("wkmp_ai.db").joinpath(name).read_text(encoding="utf-8")


def ensure_schema(conn: sqlite3.Connection, *, host: str = "127.0.0.1", port: int = 5723) -> None:
    """Create missing tables, indexes and triggers; record the version and our module_config row.

    Safe to call on every start and from several processes at once.
    """
    conn.executescript("BEGIN IMMEDIATE;\n" + _script("schema.sql") + "\n" + _script("wkmp_ai.sql") + "\nCOMMIT;")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT OR IGNORE INTO schema_version(version, applied_at) VALUES (?, strftime('%Y-%m-%d %H:%M:%S','now'))",
            (SCHEMA_VERSION,),
        )
        conn.execute(
            "INSERT OR IGNORE INTO module_config(module_name, host, port, enabled) VALUES (?, ?, ?, 1)",
            (MODULE_NAME, host, port),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
