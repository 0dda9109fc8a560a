"""A thin ctypes binding to libchromaprint (Debian ``libchromaprint1``), the library ``fpcalc`` uses.

Only what the fingerprint stage needs: a context fed 11025 Hz mono 16-bit PCM, the raw 32-bit
fingerprint, and the compressed base64 string AcoustID expects. The library is loaded lazily, once
per process, so a worker process started with spawn/forkserver pays for it only when it fingerprints.
``chromaprint_new``/``chromaprint_free`` may set up FFT plans that are not thread-safe, so both are
serialised by a lock.

Chromaprint's default algorithm (TEST2) cuts the audio into frames of 4096 samples every 1365
samples, smooths the chroma over 5 frames and classifies windows of 16; so ``N`` samples give
``frames − 19`` fingerprint items, and the items for a prefix of the audio are a prefix of the
items for the whole (checked by the tests). :func:`items_for_samples` gives that count, which lets
one context fed past a passage's end serve a shorter passage exactly.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Sequence

import numpy as np

from wkmp_ai.errors import ErrorCode, WkmpError

__all__ = [
    "ALGORITHM",
    "SAMPLE_RATE",
    "ChromaprintError",
    "Fingerprinter",
    "encode",
    "fingerprint_pcm",
    "items_for_samples",
    "version",
]

SAMPLE_RATE = 11025
ALGORITHM = 1  # CHROMAPRINT_ALGORITHM_TEST2, the default and what AcoustID indexes
_FRAME = 4096
_HOP = 1365
_LOST_ITEMS = 19  # 4 frames to the chroma filter + 15 to the classifier window
_CANDIDATES = ("chromaprint", "/usr/lib/x86_64-linux-gnu/libchromaprint.so.1", "libchromaprint.so.1")

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None


class ChromaprintError(WkmpError, RuntimeError):
    """libchromaprint is missing or refused the audio."""

    code = ErrorCode.FINGERPRINT_FAILED


def _load() -> ctypes.CDLL:
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        lib = None
        for name in _CANDIDATES:
            path = ctypes.util.find_library(name) if "/" not in name and not name.endswith(".1") else name
            if not path:
                continue
            try:
                lib = ctypes.CDLL(path)
                break
            except OSError:
                continue
        if lib is None:
            raise ChromaprintError("libchromaprint is not installed (Debian package libchromaprint1)")
        c_void_p, c_int = ctypes.c_void_p, ctypes.c_int
        u32_pp = ctypes.POINTER(ctypes.POINTER(ctypes.c_uint32))
        lib.chromaprint_get_version.restype = ctypes.c_char_p
        lib.chromaprint_new.restype = c_void_p
        lib.chromaprint_new.argtypes = [c_int]
        lib.chromaprint_free.argtypes = [c_void_p]
        lib.chromaprint_start.argtypes = [c_void_p, c_int, c_int]
        lib.chromaprint_feed.argtypes = [c_void_p, c_void_p, c_int]
        lib.chromaprint_finish.argtypes = [c_void_p]
        lib.chromaprint_get_raw_fingerprint.argtypes = [c_void_p, u32_pp, ctypes.POINTER(c_int)]
        lib.chromaprint_encode_fingerprint.argtypes = [
            ctypes.POINTER(ctypes.c_uint32),
            c_int,
            c_int,
            ctypes.POINTER(ctypes.POINTER(ctypes.c_char)),
            ctypes.POINTER(c_int),
            c_int,
        ]
        lib.chromaprint_dealloc.argtypes = [c_void_p]
        _lib = lib
        return lib


def version() -> str:
    return _load().chromaprint_get_version().decode()


def items_for_samples(samples: int) -> int:
    """Fingerprint items produced by ``samples`` samples at 11025 Hz."""
    if samples < _FRAME:
        return 0
    return max(0, (samples - _FRAME) // _HOP + 1 - _LOST_ITEMS)


class Fingerprinter:
    """One chromaprint context: ``feed`` int16 mono 11025 Hz samples, then ``finish`` once."""

    def __init__(self) -> None:
        self._lib = _load()
        with _lock:
            self._ctx = self._lib.chromaprint_new(ALGORITHM)
        if not self._ctx or not self._lib.chromaprint_start(self._ctx, SAMPLE_RATE, 1):
            self.close()
            raise ChromaprintError("chromaprint_start failed")
        self.samples = 0

    def feed(self, pcm: np.ndarray) -> None:
        if self._ctx is None:
            raise ChromaprintError("context already finished")
        if len(pcm) == 0:
            return
        data = np.ascontiguousarray(pcm, dtype=np.int16)
        if not self._lib.chromaprint_feed(self._ctx, data.ctypes.data, len(data)):
            raise ChromaprintError("chromaprint_feed failed")
        self.samples += len(data)

    def finish(self) -> np.ndarray:
        """Finish and return the raw fingerprint as uint32; frees the context."""
        if self._ctx is None:
            raise ChromaprintError("context already finished")
        lib = self._lib
        try:
            if not lib.chromaprint_finish(self._ctx):
                raise ChromaprintError("chromaprint_finish failed")
            pointer = ctypes.POINTER(ctypes.c_uint32)()
            size = ctypes.c_int()
            if not lib.chromaprint_get_raw_fingerprint(self._ctx, ctypes.byref(pointer), ctypes.byref(size)):
                raise ChromaprintError("chromaprint_get_raw_fingerprint failed")
            try:
                raw = np.ctypeslib.as_array(pointer, (size.value,)).copy() if size.value else np.zeros(0, np.uint32)
            finally:
                lib.chromaprint_dealloc(pointer)
            return raw.astype(np.uint32)
        finally:
            self.close()

    def close(self) -> None:
        if getattr(self, "_ctx", None):
            with _lock:
                self._lib.chromaprint_free(self._ctx)
        self._ctx = None

    def __del__(self) -> None:
        self.close()


def encode(raw: Sequence[int] | np.ndarray) -> str:
    """The compressed, URL-safe base64 form of a raw fingerprint (what ``fpcalc`` prints and AcoustID takes)."""
    lib = _load()
    data = np.ascontiguousarray(raw, dtype=np.uint32)
    out = ctypes.POINTER(ctypes.c_char)()
    size = ctypes.c_int()
    pointer = data.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32))
    if not lib.chromaprint_encode_fingerprint(pointer, len(data), ALGORITHM, ctypes.byref(out), ctypes.byref(size), 1):
        raise ChromaprintError("chromaprint_encode_fingerprint failed")
    try:
        return ctypes.string_at(out, size.value).decode("ascii")
    finally:
        lib.chromaprint_dealloc(out)


def fingerprint_pcm(pcm: np.ndarray) -> tuple[str, np.ndarray]:
    """Fingerprint a whole int16 mono 11025 Hz signal; returns (encoded, raw)."""
    fingerprinter = Fingerprinter()
    fingerprinter.feed(pcm)
    raw = fingerprinter.finish()
    return encode(raw), raw
