"""All SQL of wkmp-ai lives in this package.

``connection`` opens connections and owns the writer; ``schema`` creates tables; each other
module holds the queries of one area and takes a connection as its first argument.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from wkmp_ai.db.connection import Database, connect, translate_sqlite_error
from wkmp_ai.db.schema import SCHEMA_VERSION, ensure_schema
from wkmp_ai.db.settings import ensure_import_parameters

__all__ = ["SCHEMA_VERSION", "Database", "connect", "ensure_schema", "open_database"]


def open_database(path: str | Path, *, host: str = "127.0.0.1", port: int = 5723) -> Database:
    """Create the folder, the schema and the default parameters if missing; return the database."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    setup = connect(path)
    try:
        ensure_schema(setup, host=host, port=port)
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, f"cannot create the schema in {path}") from exc
    finally:
        setup.close()
    db = Database(path)
    with db.write() as conn:
        ensure_import_parameters(conn)
    return db
