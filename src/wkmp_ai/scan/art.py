"""Cover art found at scan time: validated with Pillow, resized, saved beside the audio.

Sources, in order: the picture embedded in the file (ID3 ``APIC``, FLAC/Vorbis
``METADATA_BLOCK_PICTURE``, MP4 ``covr``, WMA ``WM/Picture``, APE ``Cover Art (Front)``), then an
image in the file's folder named ``cover.*``, ``folder.*`` or ``front.*`` (docs/scan.md, *Cover art*).

- A picture is accepted only when Pillow can decode all of it (JPEG, PNG, GIF, BMP, WebP) and it
  is not absurdly large (:data:`MAX_IMAGE_BYTES`, :data:`MAX_PIXELS`); otherwise ``COVER_ART_INVALID``.
- A folder image is read by :func:`read_image_file` only: its canonical path must lie inside the
  root folder (a link out is ``PATH_OUTSIDE_ROOT``), and it must be a regular file (a FIFO, device,
  socket or folder is never opened) of at most :data:`MAX_IMAGE_BYTES`.
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
import stat
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from wkmp_ai.errors import ErrorCode, IngestError, plain_message
from wkmp_ai.scan.walk import relative_to_root

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "PreparedArt",
    "eight_bits_a_channel",
    "find_folder_image",
    "prepare_image",
    "read_image_file",
]

MAX_SIDE = 1024
MAX_PIXELS = 64_000_000  # 8000 x 8000; more is not a cover, it is an attack on memory
MAX_IMAGE_BYTES = 50_000_000  # a real cover is a few MB; a 6000 px PNG scan stays under this
OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}
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
    if len(raw) > MAX_IMAGE_BYTES:
        raise IngestError(ErrorCode.COVER_ART_INVALID, _too_big(len(raw)))
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
    image = eight_bits_a_channel(image).convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if kind == "JPEG" or (not has_alpha and kind != "PNG"):
        image.save(out, "JPEG", quality=90, optimize=True)
        suffix = ".jpg"
    else:
        image.save(out, "PNG", optimize=True)
        suffix = ".png"
    return PreparedArt(out.getvalue(), suffix, image.width, image.height, source_hash, False)


def eight_bits_a_channel(image: Image.Image) -> Image.Image:
    """``image`` with 16-bit grey scaled to 8 bits; Pillow's ``convert`` would clip it (to white)."""
    return image.point(lambda v: v * (1 / 257)).convert("L") if image.mode.startswith("I;16") else image


def _too_big(size: int) -> str:
    return f"image file of {size // 1_000_000} MB is over the {MAX_IMAGE_BYTES // 1_000_000} MB limit for cover art"


def read_image_file(path: str, root: str) -> tuple[str, bytes]:
    """The canonical path and bytes of the image file at ``path``, read safely.

    Refused with :class:`IngestError`: a canonical path outside ``root`` (``PATH_OUTSIDE_ROOT``);
    anything but a regular file, never opened (a FIFO would block, a device never ends); a file
    over :data:`MAX_IMAGE_BYTES` (``COVER_ART_INVALID``). The file is opened without following a
    link and checked again on the open descriptor, so a swap after the checks changes nothing.
    """
    real = os.path.realpath(path)
    if relative_to_root(real, root) is None:
        raise IngestError(ErrorCode.PATH_OUTSIDE_ROOT, "symbolic link leads outside the root folder; not used")
    try:
        _check_regular(os.stat(real))
        fd = os.open(real, OPEN_FLAGS)
    except OSError as exc:
        raise IngestError(ErrorCode.COVER_ART_INVALID, f"cannot read: {plain_message(exc)}") from exc
    try:
        _check_regular(os.fstat(fd))
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > MAX_IMAGE_BYTES:  # the file grew after the fstat
                raise IngestError(ErrorCode.COVER_ART_INVALID, _too_big(total))
            chunks.append(chunk)
    except OSError as exc:
        raise IngestError(ErrorCode.COVER_ART_INVALID, f"cannot read: {plain_message(exc)}") from exc
    finally:
        os.close(fd)
    return real, b"".join(chunks)


def _check_regular(st: os.stat_result) -> None:
    kind = stat.S_IFMT(st.st_mode)
    if kind != stat.S_IFREG:
        raise IngestError(ErrorCode.COVER_ART_INVALID, f"not a regular file ({_KINDS.get(kind, 'a special file')})")
    if st.st_size > MAX_IMAGE_BYTES:
        raise IngestError(ErrorCode.COVER_ART_INVALID, _too_big(st.st_size))


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
