"""The process pools the import starts (for the scan's reads; the analysis has its own WorkerPool).

Scanning work is many small syscalls and some Python per file (magic bytes; mutagen): threads
serialise on the GIL and, worse, every syscall of the thread that writes the database waits for
the GIL afterwards (measured: uuid4 took 370 µs instead of 1 µs beside four tag-reading threads).
Processes do not.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

__all__ = ["default_workers", "process_pool"]


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes: forked while this process has one thread (cheap and
    safe), from a fork server otherwise (forking a process with threads can copy a held lock)."""
    method = "fork" if threading.active_count() == 1 else "forkserver"
    if method not in multiprocessing.get_all_start_methods():
        method = "spawn"
    return ProcessPoolExecutor(max_workers=workers or default_workers(), mp_context=multiprocessing.get_context(method))
