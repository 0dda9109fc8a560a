"""The one writer: every write of an import runs here, one transaction at a time, off the event loop.

:class:`Writer` owns a single thread. ``await writer.write(fn, *args)`` runs ``fn(conn, *args)``
inside ``Database.write()`` (``BEGIN IMMEDIATE`` … ``COMMIT``) on that thread, so writes keep
their order, never overlap and never block the event loop; reads go straight to ``writer.db``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from wkmp_ai.db.connection import Database

__all__ = ["Writer"]

T = TypeVar("T")


class Writer:
    def __init__(self, db: Database):
        self.db = db
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wkmp-writer")

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one transaction on the writer thread."""

        def run() -> T:
            with self.db.write() as conn:
                return fn(conn, *args)

        return await asyncio.get_running_loop().run_in_executor(self._thread, run)

    def close(self) -> None:
        """Wait for the writes already handed over, then stop the thread."""
        self._thread.shutdown(wait=True)
