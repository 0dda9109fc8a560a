"""Folders and files a request names, resolved inside the root folder (docs/design.md, *Security*).

A name is canonicalised (``..`` and symlinks resolved) before it is checked, so no spelling of a
path outside the root gets through (:func:`wkmp_ai.config.resolve_inside_root`).
"""

from __future__ import annotations

import os
from pathlib import Path

from wkmp_ai.config import resolve_inside_root
from wkmp_ai.errors import Refused, plain_message

__all__ = ["FOLDER_REFUSED", "resolve_audio_file", "resolve_import_folder"]

FOLDER_REFUSED = "invalid_root_folder"  # the API's label for a folder that cannot be imported


def resolve_import_folder(root: Path, requested: str | os.PathLike[str] | None) -> Path:
    """The folder to import: ``requested`` (relative to the root, or absolute; None: the root itself),
    which must be a readable folder inside the root. Raises :class:`~wkmp_ai.config.PathRefused`
    (its subclass ``OutsideRoot`` for a folder outside the root) or :class:`Refused`."""
    name = os.fspath(requested) if requested is not None else os.fspath(root)
    folder = resolve_inside_root(root, name)
    try:
        is_dir = folder.is_dir()
    except OSError as exc:
        raise Refused(f"{name}: {plain_message(exc)}", error=FOLDER_REFUSED) from exc
    if not is_dir:
        raise Refused(f"{name} is not a folder", error=FOLDER_REFUSED)
    if not os.access(folder, os.R_OK | os.X_OK):
        raise Refused(f"{name} cannot be read", error=FOLDER_REFUSED)
    return folder


def resolve_audio_file(root: Path, requested: str) -> Path:
    """An existing file inside the root (404 ``not_found`` when there is none)."""
    path = resolve_inside_root(root, requested)
    try:
        is_file = path.is_file()
    except OSError as exc:
        raise Refused(f"{requested}: {plain_message(exc)}") from exc
    if not is_file:
        raise Refused(f"no such file: {requested}", error="not_found", status=404)
    return path
