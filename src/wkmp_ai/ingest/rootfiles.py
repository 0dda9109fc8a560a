"""Files the import writes into the root folder (album images fetched by identification).

Only the import writes into the user's folder, and only through here: every path is checked to
lie inside the root (symlinks resolved), and every file appears whole or not at all (written to a
hidden temporary name beside it, then renamed over).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

from wkmp_ai.config import resolve_inside_root
from wkmp_ai.errors import ErrorCode, plain_message
from wkmp_ai.records.identify import AlbumIdentification, ArtImage, IdentifyWarning

__all__ = ["save_album_art", "write_atomically"]


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
