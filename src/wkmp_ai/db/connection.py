"""Opening connections and running transactions on ``wkmp.db``.

Every connection gets WAL, ``foreign_keys=ON`` and a ``busy_timeout`` (docs/design.md, *Database*). SQLite
errors are translated here, once, into :class:`~wkmp_ai.errors.IngestError` with code
``DATABASE_ERROR`` or ``DISK_FULL``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wkmp_ai.errors import ErrorCode, IngestError

__all__ = ["BUSY_TIMEOUT_MS", "Database", "connect", "translate_sqlite_error"]

BUSY_TIMEOUT_MS = 10_000


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open ``path`` with the pragmas every WKMP connection needs; autocommit (transactions are explicit)."""
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{Path(path).as_posix()}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        else:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        return conn
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, f"cannot open database {path}") from exc


_DISK_ERRORS = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR}


def translate_sqlite_error(exc: sqlite3.Error, context: str) -> IngestError:
    """SQLite's error as ours: DISK_FULL when the disk is full or fails, else DATABASE_ERROR (by
    SQLite's primary result code, not by its message)."""
    primary = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    code = ErrorCode.DISK_FULL if primary in _DISK_ERRORS else ErrorCode.DATABASE_ERROR
    return IngestError(code, f"{context}: {exc}")


class Database:
    """The one writer connection of the process plus per-thread reader connections.

    ``write()`` serialises writers with a lock and wraps the block in ``BEGIN IMMEDIATE`` …
    ``COMMIT`` (rolled back on any exception). ``read()`` gives the calling thread its own
    connection, so reads never wait for the writer's lock (WAL lets them see the last commit).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._writer = connect(self.path)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            if self._closed:
                raise IngestError(ErrorCode.DATABASE_ERROR, "database is closed")
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise translate_sqlite_error(exc, "cannot begin a write transaction") from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise translate_sqlite_error(exc, "write failed") from exc
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        try:
            yield conn
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, "read failed") from exc

    def close(self) -> None:
        with self._write_lock:
            self._closed = True
            self._writer.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
