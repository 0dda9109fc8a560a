"""Our demux/decode loop in C over the system's FFmpeg (``native/avdecode/avdecode.c``), through ctypes.

:mod:`wkmp_ai.audio.decode` opens every file with PyAV (stream info, chapters, the evidence of
damage found while probing) and then, when this library is built and opens the file too, reads
its samples here: one call per block instead of a Python object per packet and per frame
(docs/audio.md, *Decoding*). It cut the decoder's cost per 3-minute track by ~0.1 s (MP3, AAC,
Vorbis: ~40 %). The system's FFmpeg is the one ``fpcalc`` uses, so lossy files decode to the samples
``fpcalc`` hears (on a real Vorbis recording the fingerprint became ``fpcalc``'s string, which PyAV's
decoder missed by a few items). When the library is missing, or will not open a file PyAV opened,
PyAV decodes it as before.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
from pathlib import Path

import numpy as np

__all__ = ["LIBRARY", "NativeStream", "Status", "available", "sample_format"]

log = logging.getLogger(__name__)

LIBRARY = Path(__file__).with_name("native") / "_avdecode.so"
_TEXT = 256
# enum AVSampleFormat, as FFmpeg names them
_FORMATS = ("u8", "s16", "s32", "flt", "dbl", "u8p", "s16p", "s32p", "fltp", "dblp", "s64", "s64p")


class Status(ctypes.Structure):
    """``wk_status``: the counts for the whole file so far, and the shape of the samples just read."""

    _fields_ = [
        ("decoded", ctypes.c_int64),
        ("sample_fmt", ctypes.c_int),
        ("native_is_pcm", ctypes.c_int),
        ("finished", ctypes.c_int),
        ("gave_up", ctypes.c_int),
        ("bad_packets", ctypes.c_int),
        ("first_bad_at", ctypes.c_int64),
        ("corrupt_packets", ctypes.c_int),
        ("first_corrupt_at", ctypes.c_int64),
        ("logged_errors", ctypes.c_int),
        ("first_logged_at", ctypes.c_int64),
        ("converted", ctypes.c_int),
        ("first_bad", ctypes.c_char * _TEXT),
        ("first_logged", ctypes.c_char * _TEXT),
        ("gave_up_reason", ctypes.c_char * _TEXT),
        ("layout", ctypes.c_char * 64),
    ]


@functools.cache
def _library() -> ctypes.CDLL | None:
    if not LIBRARY.is_file():
        return None
    try:
        lib = ctypes.CDLL(str(LIBRARY))
        lib.wk_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.wk_open.restype = ctypes.c_void_p
        lib.wk_read.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(Status)]
        lib.wk_read.restype = ctypes.c_int
        lib.wk_close.argtypes = [ctypes.c_void_p]
        lib.wk_close.restype = None
        if lib.wk_status_size() != ctypes.sizeof(Status):
            raise OSError("the library was built from another version of avdecode.c")
        lib.wk_init()
    except (OSError, AttributeError) as exc:
        log.warning("our C decoder cannot be loaded (%s); files are decoded with PyAV instead", exc)
        return None
    return lib


def available() -> bool:
    """Whether the C decoder is built, loads, and is not turned off (``WKMP_DECODER=pyav``)."""
    return os.environ.get("WKMP_DECODER") != "pyav" and _library() is not None


def sample_format(code: int) -> str:
    return _FORMATS[code] if 0 <= code < len(_FORMATS) else f"format {code}"


class NativeStream:
    """One file's audio stream, opened by the system's FFmpeg; :meth:`read` fills caller-owned arrays."""

    def __init__(self, handle: int, lib: ctypes.CDLL):
        self._handle: int | None = handle
        self._lib = lib
        self.status = Status()

    @classmethod
    def open(cls, path: Path, stream: int, rate: int, channels: int, *, quick: bool) -> NativeStream | None:
        """The stream, or None when the C decoder is not available or cannot open the file."""
        if not available():
            return None
        lib = _library()
        assert lib is not None
        handle = lib.wk_open(os.fsencode(path), stream, rate, channels, int(quick))
        if not handle:  # PyAV opened it, the system's FFmpeg will not: PyAV's loop decodes it
            log.info("%s: the system's FFmpeg cannot open it; decoding it with PyAV's loop", path)
            return None
        return cls(handle, lib)

    def read(self, pcm: np.ndarray, native: np.ndarray, capacity: int) -> int:
        """Up to ``capacity`` sample frames into ``pcm`` (float32, ``(channels, capacity)``) and
        ``native`` (bytes enough for 8-byte samples); :attr:`status` says what was read."""
        assert self._handle is not None and pcm.flags.c_contiguous and native.flags.c_contiguous
        return int(
            self._lib.wk_read(self._handle, pcm.ctypes.data, native.ctypes.data, capacity, ctypes.byref(self.status))
        )

    def close(self) -> None:
        if self._handle is not None:
            self._lib.wk_close(self._handle)
            self._handle = None
