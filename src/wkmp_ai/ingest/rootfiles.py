"""Files the import writes into the root folder: album images fetched by identification, and
embedded cover art the scan extracts (:func:`save_beside`, handed to the scan's cover planner).

Only the import writes into the user's folder, and only through here: every path is checked to
lie inside the root (symlinks resolved), and every file appears whole or not at all (written to a
hidden temporary name beside it, then renamed over).
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from dataclasses import replace
from pathlib import Path

from wkmp_ai.config import resolve_inside_root
from wkmp_ai.errors import ErrorCode, IngestError, plain_message
from wkmp_ai.records.identify import AlbumIdentification, ArtImage, IdentifyWarning
from wkmp_ai.scan.art import OPEN_FLAGS, PreparedArt

__all__ = ["save_album_art", "save_beside", "write_atomically"]


def write_atomically(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_art(root: Path, art: tuple[ArtImage, ...]) -> tuple[tuple[ArtImage, ...], tuple[IdentifyWarning, ...]]:
    kept: list[ArtImage] = []
    warnings: list[IdentifyWarning] = []
    for image in art:
        if image.data is None:
            kept.append(image)
            continue
        try:
            write_atomically(resolve_inside_root(root, image.rel_path), image.data)
        except (OSError, ValueError) as exc:
            kind = image.image_type.removeprefix("album_")
            warnings.append(
                IdentifyWarning(ErrorCode.COVER_ART_INVALID, f"{kind} image: {plain_message(exc)}", image.rel_path)
            )
            continue
        kept.append(replace(image, data=None))
    return tuple(kept), tuple(warnings)


async def save_album_art(root: Path, result: AlbumIdentification) -> AlbumIdentification:
    """Write the images identification fetched; one that cannot be written is left out, with a warning."""
    if not any(image.data is not None for image in result.art):
        return result
    kept, warnings = await asyncio.to_thread(_write_art, root, result.art)
    return replace(result, art=kept, warnings=result.warnings + warnings)


def _utc_stamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H-%M-%SZ", time.gmtime(now))


def save_beside(art: PreparedArt, audio_path: str, *, now: float | None = None) -> str:
    """Write ``art`` next to ``audio_path`` (same base name) and return the absolute path written.

    A file already there with the same bytes is reused; one with other bytes is left alone and the
    image gets a time-stamped name. Never overwrites anything.
    """
    folder, _, name = audio_path.rpartition(os.sep)
    stem = name.rpartition(".")[0] or name
    stamp = _utc_stamp(time.time() if now is None else now)
    candidates = [f"{stem}{art.suffix}", f"{stem}_{stamp}{art.suffix}"]
    candidates += [f"{stem}_{stamp}_{n}{art.suffix}" for n in range(2, 100)]
    for candidate in candidates:
        target = os.path.join(folder, candidate)
        try:
            fh = open(target, "xb")  # noqa: SIM115 - closed below; removed again if the write fails
        except FileExistsError:
            if _same_bytes(target, art.data):
                return target
            continue
        try:
            with fh:
                fh.write(art.data)
        except OSError:
            os.unlink(target)  # never leave half an image behind
            raise
        return target
    raise IngestError(ErrorCode.COVER_ART_INVALID, f"no free file name for the cover of {name}")


def _same_bytes(path: str, data: bytes) -> bool:
    """Whether ``path`` is a regular file (not a link, FIFO or device) holding exactly ``data``."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        fd = os.open(path, OPEN_FLAGS)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "rb") as fh:
            return fh.read(len(data) + 1) == data
    except OSError:
        return False
