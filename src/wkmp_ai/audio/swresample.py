"""The system's libswresample through ctypes, set up as ``fpcalc`` sets it up.

Fingerprints must be the strings ``fpcalc`` prints (docs/design.md, *Passages*), and ``fpcalc`` resamples
with the system's FFmpeg. PyAV brings an FFmpeg of its own, whose 16-bit resampler quantises its
filter slightly differently (FFmpeg 6 made the filter design more accurate): on integer PCM (FLAC,
WAV) one fingerprint item in a thousand came out different. So the 11025 Hz stream is made by the
same library ``fpcalc`` uses — Debian's ``libswresample4``, which ``libchromaprint-tools`` depends
on and ``scripts/install.sh`` installs — with Chromaprint's "compatible mode" settings. Where that
library cannot be loaded, :mod:`wkmp_ai.audio.decode` falls back to PyAV's resampler (same
settings; fingerprints then match ``fpcalc`` to ≥ 99.9 % of their bits).

Only the API that FFmpeg 5.1 and later share is used (``swr_alloc_set_opts2``, ``AVChannelLayout``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Any

import numpy as np

__all__ = ["SystemResampler", "available"]

# enum AVSampleFormat
_FORMATS = {"u8": 0, "s16": 1, "s32": 2, "flt": 3, "dbl": 4, "u8p": 5, "s16p": 6, "s32p": 7, "fltp": 8, "dblp": 9}
_S16 = 1
_LIBRARIES = ("libswresample.so.4", "libswresample.so.5", "libswresample.so.6")


class _ChannelLayout(ctypes.Structure):
    """``AVChannelLayout``: order, channel count, mask (or custom map), opaque."""

    _fields_ = [
        ("order", ctypes.c_int),
        ("nb_channels", ctypes.c_int),
        ("mask", ctypes.c_uint64),
        ("opaque", ctypes.c_void_p),
    ]


_lib: ctypes.CDLL | None = None
_loaded = False
_lock = threading.Lock()


def _load() -> ctypes.CDLL | None:
    global _lib, _loaded
    with _lock:
        if _loaded:
            return _lib
        _loaded = True
        found = ctypes.util.find_library("swresample")
        for name in ((found,) if found else ()) + _LIBRARIES:
            try:
                lib = ctypes.CDLL(name)
                # libavutil's functions resolve through libswresample's own dependency, so the pair matches.
                argtypes: list[Any] = (
                    [ctypes.POINTER(ctypes.c_void_p)]
                    + [ctypes.POINTER(_ChannelLayout), ctypes.c_int, ctypes.c_int] * 2
                    + [ctypes.c_int, ctypes.c_void_p]
                )
                lib.swr_alloc_set_opts2.argtypes = argtypes
                lib.swr_alloc_set_opts2.restype = ctypes.c_int
                lib.swr_init.argtypes = [ctypes.c_void_p]
                lib.swr_free.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
                lib.swr_convert.argtypes = [
                    ctypes.c_void_p,
                    ctypes.POINTER(ctypes.c_void_p),
                    ctypes.c_int,
                    ctypes.POINTER(ctypes.c_void_p),
                    ctypes.c_int,
                ]
                lib.swr_get_out_samples.argtypes = [ctypes.c_void_p, ctypes.c_int]
                lib.av_opt_set_int.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int]
                lib.av_opt_set_double.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double, ctypes.c_int]
                lib.av_channel_layout_from_string.argtypes = [ctypes.POINTER(_ChannelLayout), ctypes.c_char_p]
                lib.av_channel_layout_default.argtypes = [ctypes.POINTER(_ChannelLayout), ctypes.c_int]
                lib.av_channel_layout_uninit.argtypes = [ctypes.POINTER(_ChannelLayout)]
            except (OSError, AttributeError):
                continue
            _lib = lib
            break
        return _lib


def available() -> bool:
    return _load() is not None


def _layout(lib: ctypes.CDLL, name: str, channels: int) -> _ChannelLayout:
    layout = _ChannelLayout()
    if lib.av_channel_layout_from_string(ctypes.byref(layout), name.encode()) != 0 or layout.nb_channels != channels:
        lib.av_channel_layout_uninit(ctypes.byref(layout))
        lib.av_channel_layout_default(ctypes.byref(layout), channels)
    return layout


class SystemResampler:
    """Native samples of one format and layout in, 11025 Hz mono s16 out (``fpcalc``'s converter)."""

    def __init__(self, *, rate: int, fmt: str, layout: str, channels: int, out_rate: int):
        lib = _load()
        if lib is None or fmt not in _FORMATS:
            raise OSError("libswresample is not available")
        self._lib = lib
        self._planar = fmt.endswith("p")
        self._channels = channels
        self._ctx = ctypes.c_void_p()
        source = _layout(lib, layout, channels)
        mono = _layout(lib, "mono", 1)
        try:
            status = lib.swr_alloc_set_opts2(
                ctypes.byref(self._ctx),
                ctypes.byref(mono),
                _S16,
                out_rate,
                ctypes.byref(source),
                _FORMATS[fmt],
                rate,
                0,
                None,
            )
        finally:
            lib.av_channel_layout_uninit(ctypes.byref(source))
            lib.av_channel_layout_uninit(ctypes.byref(mono))
        if status < 0 or not self._ctx:
            raise OSError(f"swr_alloc_set_opts2 failed ({status})")
        # Chromaprint's FFmpegAudioProcessor::SetCompatibleMode, as fpcalc runs it.
        lib.av_opt_set_int(self._ctx, b"resampler", 0, 0)
        lib.av_opt_set_int(self._ctx, b"filter_size", 16, 0)
        lib.av_opt_set_int(self._ctx, b"phase_shift", 8, 0)
        lib.av_opt_set_int(self._ctx, b"linear_interp", 1, 0)
        lib.av_opt_set_double(self._ctx, b"cutoff", 0.8, 0)
        if lib.swr_init(self._ctx) < 0:
            self.close()
            raise OSError("swr_init failed")

    def convert(self, native: np.ndarray | None) -> np.ndarray:
        """Resample a block of native samples, planar ``(channels, n)`` or packed ``(1, n·channels)``;
        None flushes what the filter still holds (the end of the stream)."""
        if native is None:
            count, inputs = 0, None
        else:
            rows = [np.ascontiguousarray(row) for row in native] if self._planar else [np.ascontiguousarray(native[0])]
            count = native.shape[1] if self._planar else native.shape[1] // self._channels
            inputs = (ctypes.c_void_p * len(rows))(*[row.ctypes.data for row in rows])
        out = np.empty(max(1, self._lib.swr_get_out_samples(self._ctx, count)) + 32, np.int16)
        pointer = (ctypes.c_void_p * 1)(out.ctypes.data)
        got = self._lib.swr_convert(self._ctx, pointer, len(out), inputs, count)
        if got < 0:
            raise OSError(f"swr_convert failed ({got})")
        return out[:got]

    def close(self) -> None:
        if self._ctx:
            self._lib.swr_free(ctypes.byref(self._ctx))

    def __del__(self) -> None:
        self.close()
