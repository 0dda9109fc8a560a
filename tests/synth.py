"""Signals with known truths, and a writer that encodes them with PyAV in any format we import.

Every generator returns float32 samples shaped ``(frames, channels)`` in [-1, 1]. Build a test
signal by concatenating pieces whose lengths you know; the boundaries are then exact truths.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = [
    "FORMATS",
    "chirp",
    "concat",
    "db_to_amplitude",
    "fade",
    "music_like",
    "noise",
    "silence",
    "tone",
    "write_audio",
    "write_long_flac",
]


def db_to_amplitude(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def _shape(mono: np.ndarray, channels: int) -> np.ndarray:
    return np.repeat(mono.astype(np.float32)[:, None], channels, axis=1)


def tone(
    seconds: float, *, sr: int = 44100, freq: float = 440.0, amplitude: float = 0.5, channels: int = 2
) -> np.ndarray:
    n = round(seconds * sr)
    t = np.arange(n) / sr
    return _shape(amplitude * np.sin(2 * np.pi * freq * t), channels)


def chirp(
    seconds: float, *, sr: int = 44100, f0: float = 200.0, f1: float = 4000.0, amplitude: float = 0.5, channels: int = 2
) -> np.ndarray:
    n = round(seconds * sr)
    t = np.arange(n) / sr
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * seconds))
    return _shape(amplitude * np.sin(phase), channels)


def silence(seconds: float, *, sr: int = 44100, channels: int = 2) -> np.ndarray:
    return np.zeros((round(seconds * sr), channels), dtype=np.float32)


def noise(seconds: float, *, sr: int = 44100, level_db: float = -55.0, channels: int = 2, seed: int = 0) -> np.ndarray:
    """White noise whose RMS is ``level_db`` dBFS."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    return (rng.standard_normal((n, channels)) * db_to_amplitude(level_db)).astype(np.float32)


def music_like(
    seconds: float, *, sr: int = 44100, amplitude: float = 0.5, channels: int = 2, seed: int = 0
) -> np.ndarray:
    """A chord of harmonics with a note change every 0.25 s: fingerprintable, steady in level."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    out = np.zeros(n)
    step = sr // 4
    t = np.arange(step) / sr
    for start in range(0, n, step):
        base = 110.0 * 2 ** (rng.integers(0, 24) / 12)
        seg = sum(np.sin(2 * np.pi * base * k * t) / k for k in (1, 2, 3, 5))
        seg = seg[: n - start]
        out[start : start + len(seg)] = seg
    out *= amplitude / max(np.max(np.abs(out)), 1e-9)
    return _shape(out, channels)


def fade(
    signal: np.ndarray,
    *,
    sr: int,
    fade_in_s: float = 0.0,
    fade_out_s: float = 0.0,
    shape: str = "linear",
    floor_db: float = -60.0,
) -> np.ndarray:
    """Apply a fade-in/out. ``shape`` 'linear' is linear in amplitude; 'db' is linear in dB from ``floor_db``."""
    out = signal.astype(np.float32).copy()
    for seconds, at_end in ((fade_in_s, False), (fade_out_s, True)):
        n = round(seconds * sr)
        if n <= 0:
            continue
        ramp = (
            np.linspace(0.0, 1.0, n, endpoint=False)
            if shape == "linear"
            else 10 ** (np.linspace(floor_db, 0.0, n, endpoint=False) / 20)
        )
        if at_end:
            out[-n:] *= ramp[::-1, None]
        else:
            out[:n] *= ramp[:, None]
    return out


def concat(*pieces: np.ndarray) -> np.ndarray:
    return np.concatenate(pieces, axis=0).astype(np.float32)


@dataclass(frozen=True)
class Format:
    container: str
    codec: str
    suffix: str
    sample_fmt: str
    rates: tuple[int, ...] | None = None  # None: any rate


FORMATS: dict[str, Format] = {
    "wav": Format("wav", "pcm_s16le", ".wav", "s16"),
    "wav24": Format("wav", "pcm_s24le", ".wav", "s32"),
    "wav8": Format("wav", "pcm_u8", ".wav", "u8"),
    "flac": Format("flac", "flac", ".flac", "s16"),
    "flac24": Format("flac", "flac", ".flac", "s32"),
    "mp3": Format("mp3", "libmp3lame", ".mp3", "fltp", (8000, 11025, 16000, 22050, 32000, 44100, 48000)),
    "ogg": Format("ogg", "vorbis", ".ogg", "fltp"),
    "opus": Format("ogg", "libopus", ".opus", "flt", (48000,)),
    "m4a": Format("ipod", "aac", ".m4a", "fltp"),
    "alac": Format("ipod", "alac", ".m4a", "s16p"),
    "aiff": Format("aiff", "pcm_s16be", ".aiff", "s16"),
    "wma": Format("asf", "wmav2", ".wma", "fltp"),
}


def _to_format(block: np.ndarray, sample_fmt: str) -> np.ndarray:
    """Convert float (frames, ch) to the array layout PyAV expects for ``sample_fmt``."""
    clipped = np.clip(block, -1.0, 1.0)
    planar = sample_fmt.endswith("p")
    if sample_fmt.startswith("s16"):
        data = np.round(clipped * 32767).astype(np.int16)
    elif sample_fmt.startswith("s32"):
        data = np.round(clipped * 2147483647.0).astype(np.int64).clip(-(2**31), 2**31 - 1).astype(np.int32)
    elif sample_fmt.startswith("u8"):
        data = np.round(clipped * 127 + 128).astype(np.uint8)
    else:
        data = clipped.astype(np.float32)
    return np.ascontiguousarray(data.T) if planar else np.ascontiguousarray(data.reshape(1, -1))


def write_audio(
    path: Path | str, samples: np.ndarray, *, sr: int, fmt: str = "flac", bitrate: int | None = None
) -> Path:
    """Encode ``samples`` (frames, channels) at ``sr`` Hz to ``path`` in format ``fmt`` (a FORMATS key)."""
    spec = FORMATS[fmt]
    if spec.rates and sr not in spec.rates:
        raise ValueError(f"{fmt} cannot encode at {sr} Hz")
    if samples.ndim == 1:
        samples = samples[:, None]
    channels = samples.shape[1]
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    path = Path(path)
    with av.open(str(path), "w", format=spec.container) as out:
        options = {"strict": "experimental"} if spec.codec == "vorbis" else {}
        stream = out.add_stream(spec.codec, rate=sr, options=options)
        stream.layout = layout
        stream.format = spec.sample_fmt
        if bitrate or spec.codec == "wmav2":
            stream.bit_rate = bitrate or 128_000
        stream.time_base = Fraction(1, sr)
        frame_size = stream.codec_context.frame_size or 4096
        pts = 0
        for start in range(0, len(samples), frame_size):
            block = samples[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(
                _to_format(block, spec.sample_fmt), format=spec.sample_fmt, layout=layout
            )
            frame.sample_rate = sr
            frame.pts = pts
            frame.time_base = Fraction(1, sr)
            pts += len(block)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def long_file_songs(minutes: float, *, song_s: float = 300.0, gap_s: float = 2.0) -> list[tuple[float, float]]:
    """(start, end) seconds of the tone 'songs' that :func:`write_long_flac` lays out."""
    songs = []
    t, total = gap_s / 2, minutes * 60
    while t + song_s <= total:
        songs.append((t, t + song_s))
        t += song_s + gap_s
    return songs


def write_long_flac(
    path: Path | str, *, minutes: float, sr: int = 44100, song_s: float = 300.0, gap_s: float = 2.0
) -> Path:
    """A long stereo 16-bit FLAC written block by block (never held whole in memory).

    Songs of ``song_s`` seconds — a steady tone, a different pitch each — separated by ``gap_s`` of
    digital silence, with half a gap at each end; see :func:`long_file_songs` for the truths.
    """
    path = Path(path)
    songs = long_file_songs(minutes, song_s=song_s, gap_s=gap_s)
    total = round(minutes * 60 * sr)
    bounds = [(round(a * sr), round(b * sr)) for a, b in songs]
    block = sr * 10
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=sr, options={"compression_level": "0"})
        stream.layout = "stereo"
        stream.format = "s16"
        for start in range(0, total, block):
            n = min(block, total - start)
            mono = np.zeros(n)
            for number, (a, b) in enumerate(bounds):
                lo, hi = max(a, start), min(b, start + n)
                if lo < hi:
                    freq = 220.0 * 2 ** (number % 12 / 12)
                    mono[lo - start : hi - start] = 0.5 * np.sin(2 * np.pi * freq * np.arange(lo, hi) / sr)
            data = np.repeat(np.round(mono * 32767).astype(np.int16)[:, None], 2, axis=1).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(data, format="s16", layout="stereo")
            frame.sample_rate = sr
            frame.pts = start
            frame.time_base = Fraction(1, sr)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
