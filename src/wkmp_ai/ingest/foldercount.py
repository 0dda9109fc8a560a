"""Audio files under each folder of the root, counted in one background thread for the wizard's folder
browser (:mod:`wkmp_ai.services.browse`): a walk of a big collection takes a while, so counts are kept
for a minute and a listing waits only a moment for them. Files are counted by name (the suffixes the
scanner knows); the import itself recognises audio by content.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from pathlib import Path

from wkmp_ai.scan.notaudio import AUDIO_SUFFIXES

__all__ = ["COUNT_TTL_S", "FolderCounter"]

COUNT_TTL_S = 60.0


class FolderCounter:
    """Audio files under each folder (recursively, links not followed), counted in the background."""

    def __init__(self, ttl_s: float = COUNT_TTL_S):
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}
        self._running: dict[str, Future[int]] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wkmp-folder-count")
        self._closed = threading.Event()

    def counts(self, folders: list[Path], *, wait_s: float) -> list[int | None]:
        """The count of each folder if known (waiting up to ``wait_s`` for new ones), else None."""
        now = time.monotonic()
        futures: list[Future[int]] = []
        with self._lock:
            for folder in folders:
                key = str(folder)
                cached = self._counts.get(key)
                if (cached is None or now - cached[0] > self._ttl) and key not in self._running:
                    future = self._executor.submit(self._count, key)
                    self._running[key] = future
                if key in self._running:
                    futures.append(self._running[key])
        if futures and wait_s > 0:
            wait_futures(futures, timeout=wait_s)
        with self._lock:
            return [c[1] if (c := self._counts.get(str(f))) else None for f in folders]

    def _count(self, key: str) -> int:
        total = 0
        try:
            for _dirpath, dirs, files in os.walk(key, followlinks=False):
                if self._closed.is_set():  # the service is stopping: give up, it must not wait for a walk
                    dirs.clear()
                    break
                total += sum(1 for name in files if os.path.splitext(name)[1].lower() in AUDIO_SUFFIXES)
        finally:
            with self._lock:
                self._counts[key] = (time.monotonic(), total)
                self._running.pop(key, None)
        return total

    def close(self) -> None:
        self._closed.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
