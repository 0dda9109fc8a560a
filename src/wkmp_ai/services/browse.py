"""The folder browser behind ``GET /folders``: the sub-folders of a folder inside the root, each with
how many audio files it holds.

Counting walks a whole tree, which takes a while on a big collection, so it runs in one background
thread and its results are kept for a minute; a listing waits a moment for the counts and answers
``null`` for those not known yet (the page asks again). Files are counted by name (the suffixes the
scanner knows); the import itself recognises audio by content.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from pathlib import Path
from typing import Any

from wkmp_ai.config import resolve_inside_root
from wkmp_ai.errors import Refused, plain_message
from wkmp_ai.scan.notaudio import AUDIO_SUFFIXES

__all__ = ["FolderCounter", "FolderError", "list_folders"]

COUNT_TTL_S = 60.0


class FolderError(Refused):
    """A folder that cannot be listed: outside the root, not a folder, unreadable (message for the user)."""

    error = "invalid_folder"


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


def _relative(root: Path, folder: Path) -> str:
    rel = folder.relative_to(root).as_posix()
    return "" if rel == "." else rel


def _usable_name(name: str) -> bool:
    try:
        name.encode("utf-8")  # a name that is not UTF-8 arrives with surrogates and cannot be imported
    except UnicodeEncodeError:
        return False
    return not name.startswith(".")


def list_folders(root: Path, path: str, counter: FolderCounter, *, wait_s: float = 0.4) -> dict[str, Any]:
    """``{"path", "parent", "audio_files", "folders": [{"name", "path", "audio_files"}]}``, paths relative
    to ``root`` ('' is the root itself; ``parent`` is None there). Raises :class:`FolderError`."""
    root = root.resolve()
    try:
        folder = resolve_inside_root(root, path or ".")
    except ValueError as exc:
        raise FolderError(str(exc), path=path) from None
    try:
        if not folder.is_dir():
            raise FolderError(f"{path} is not a folder", path=path)
        with os.scandir(folder) as entries:
            names = sorted(
                (e.name for e in entries if _usable_name(e.name) and e.is_dir(follow_symlinks=True)), key=str.casefold
            )
    except OSError as exc:
        raise FolderError(f"{path or 'the root folder'} cannot be read: {plain_message(exc)}", path=path) from None
    subfolders: list[Path] = []
    for name in names:
        real = (folder / name).resolve()
        if real == root or root in real.parents:  # a link leading outside the root is not offered
            subfolders.append(folder / name)
    counts = counter.counts([folder, *subfolders], wait_s=wait_s)
    rel = _relative(root, folder)
    return {
        "path": rel,
        "parent": None if folder == root else _relative(root, folder.parent),
        "audio_files": counts[0],
        "folders": [
            {"name": sub.name, "path": _relative(root, sub), "audio_files": count}
            for sub, count in zip(subfolders, counts[1:], strict=True)
        ],
    }
