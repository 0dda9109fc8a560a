"""Cover art found at scan time: validated with Pillow, resized, saved beside the audio.

Sources, in order: the picture embedded in the file (ID3 ``APIC``, FLAC/Vorbis
``METADATA_BLOCK_PICTURE``, MP4 ``covr``, WMA ``WM/Picture``, APE ``Cover Art (Front)``), then an
image in the file's folder named ``cover.*``, ``folder.*`` or ``front.*`` (docs/scan.md, *Cover art*).

- A picture is accepted only when Pillow can decode all of it (JPEG, PNG, GIF, BMP, WebP) and it
  is not absurdly large (:data:`MAX_PIXELS`); otherwise ``COVER_ART_INVALID``.
- Anything over :data:`MAX_SIDE` on either side is resized to fit (aspect kept, Lanczos).
  JPEG and PNG that already fit are kept byte for byte; others are re-encoded.
- The image is written next to the audio file with its base name: ``song.mp3`` → ``song.jpg``.
  If that name is taken by a different file, ``song_2025-10-09T12-34-56Z.jpg`` (UTC, no ``:``,
  which Windows forbids in file names). A folder image that needs no resizing is used in place.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from wkmp_ai.errors import ErrorCode, IngestError, plain_message

__all__ = ["MAX_PIXELS", "MAX_SIDE", "PreparedArt", "find_folder_image", "prepare_image", "save_beside"]

MAX_SIDE = 1024
MAX_PIXELS = 64_000_000  # 8000 x 8000; more is not a cover, it is an attack on memory
_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "BMP": ".bmp", "WEBP": ".webp"}
_FOLDER_NAMES = ("cover", "folder", "front")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp")


@dataclass(frozen=True)
class PreparedArt:
    """An image ready to save: its bytes, file suffix, pixel size and the source's SHA-256."""

    data: bytes
    suffix: str
    width: int
    height: int
    source_hash: str
    unchanged: bool  # True when ``data`` is the source itself (no resize, no re-encode)


def prepare_image(raw: bytes) -> PreparedArt:
    """Validate ``raw`` as an image and fit it into MAX_SIDE x MAX_SIDE.

    Raises IngestError(COVER_ART_INVALID) when it is not a whole, decodable, reasonable image.
    """
    source_hash = hashlib.sha256(raw).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                kind = probe.format or ""
                if kind not in _FORMATS:
                    raise IngestError(ErrorCode.COVER_ART_INVALID, f"unsupported image type {kind or 'unknown'}")
                width, height = probe.size
                if width * height > MAX_PIXELS or not width or not height:
                    raise IngestError(ErrorCode.COVER_ART_INVALID, f"image of {width}x{height} pixels is too large")
                probe.verify()
            with Image.open(io.BytesIO(raw)) as image:
                if width <= MAX_SIDE and height <= MAX_SIDE and kind in ("JPEG", "PNG"):
                    image.load()  # decode it all: a truncated image fails here
                    return PreparedArt(raw, _FORMATS[kind], width, height, source_hash, True)
                if kind == "JPEG":
                    image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # let libjpeg decode at 1/2, 1/4, 1/8 scale
                image.load()
                return _fit(image, kind, source_hash)
    except IngestError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise IngestError(ErrorCode.COVER_ART_INVALID, f"not a valid image: {plain_message(exc)}") from exc
    except Image.DecompressionBombWarning as exc:
        raise IngestError(ErrorCode.COVER_ART_INVALID, f"image too large: {exc}") from exc


def _fit(image: Image.Image, kind: str, source_hash: str) -> PreparedArt:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if kind == "JPEG" or (not has_alpha and kind != "PNG"):
        image.save(out, "JPEG", quality=90, optimize=True)
        suffix = ".jpg"
    else:
        image.save(out, "PNG", optimize=True)
        suffix = ".png"
    return PreparedArt(out.getvalue(), suffix, image.width, image.height, source_hash, False)


def find_folder_image(folder: str) -> str | None:
    """Absolute path of the folder's cover image (``cover.*``, then ``folder.*``, then ``front.*``)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    by_stem: dict[str, str] = {}
    for name in sorted(names):
        stem, dot, ext = name.rpartition(".")
        if dot and "." + ext.lower() in _IMAGE_SUFFIXES:
            by_stem.setdefault(stem.lower(), name)
    for wanted in _FOLDER_NAMES:
        if wanted in by_stem:
            return os.path.join(folder, by_stem[wanted])
    return None


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
    try:
        if os.path.getsize(path) != len(data):
            return False
        with open(path, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False
