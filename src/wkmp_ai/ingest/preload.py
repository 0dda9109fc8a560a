"""Imported once by the workers' forkserver, so that every worker forked from it starts with the
audio stack loaded instead of loading it on its first task (~0.35 s of CPU each time: at the start
of an import, while the scan runs, and again each time a worker is replaced after ``max_tasks``).

Python's forkserver survives only an ``ImportError`` in a preloaded module; anything else would
kill it and every worker with it. A module that will not load here is loaded by the worker on its
first task, as without the preload, and fails there with that task's error.
"""

from __future__ import annotations

import contextlib
import importlib

__all__ = ["MODULES"]

MODULES = ("wkmp_ai.audio.analyze", "wkmp_ai.scan.findindex")

for _name in MODULES:
    with contextlib.suppress(Exception):
        importlib.import_module(_name)
