"""The folder browser behind ``GET /folders``: the sub-folders of a folder inside the root, each with
how many audio files it holds.

The counts come from :class:`~wkmp_ai.ingest.foldercount.FolderCounter` (one background thread, kept a
minute); a listing waits a moment for them and answers ``null`` for those not known yet (the page
asks again).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from wkmp_ai.config import resolve_inside_root
from wkmp_ai.errors import Refused, plain_message
from wkmp_ai.ingest.foldercount import FolderCounter

__all__ = ["FolderCounter", "FolderError", "list_folders"]


class FolderError(Refused):
    """A folder that cannot be listed: outside the root, not a folder, unreadable (message for the user)."""

    error = "invalid_folder"


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
