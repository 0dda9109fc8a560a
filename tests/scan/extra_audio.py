"""Encoding formats tests/synth.py does not list (WavPack, TTA, CAF, ADTS, MP2) with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["encode"]


def encode(path: Path, container: str, codec: str, sample_fmt: str, *, sr: int = 44100, seconds: float = 0.3) -> Path:
    """Encode a stereo tone with PyAV in formats tests/synth.py does not list."""
    n = int(sr * seconds)
    t = np.arange(n) / sr
    mono = 0.4 * np.sin(2 * np.pi * 440 * t)
    planar = sample_fmt.endswith("p")
    if sample_fmt.startswith("s16"):
        data = (mono * 32767).astype(np.int16)
    elif sample_fmt.startswith("s32"):
        data = (mono * 2**31 * 0.99).astype(np.int32)
    else:
        data = mono.astype(np.float32)
    stereo = np.stack([data, data])
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=sr)
        stream.layout = "stereo"
        stream.format = sample_fmt
        stream.time_base = Fraction(1, sr)
        step = stream.codec_context.frame_size or 4096
        for start in range(0, n, step):
            block = stereo[:, start : start + step]
            array = np.ascontiguousarray(block if planar else block.T.reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(array, format=sample_fmt, layout="stereo")
            frame.sample_rate = sr
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
