"""Waveform peaks for the segment editor: the lowest and highest sample of the mono mix per bin.

Collected from the import's single decode (:class:`PeaksCollector` is fed the channel sum the
envelopes already made, so it adds two reductions per block and no copy), or — for a file
imported before peaks existed — by :func:`compute_peaks`, one decode of its own.

A bin is ``round(sample_rate / PEAKS_PER_SECOND)`` samples (50 ms at 44.1 kHz); the client maps
bin ``i`` to ``i × samples_per_peak / sample_rate`` seconds. Stored compactly as little-endian
int16 pairs ``(min, max)`` scaled by 32767: 84,000 pairs, 336 kB, for 70 minutes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wkmp_ai.records.analysis import Peaks

__all__ = ["PEAKS_PER_SECOND", "Peaks", "PeaksCollector", "compute_peaks"]

PEAKS_PER_SECOND = 20
_SCALE = 32767.0


class PeaksCollector:
    """Consumes the mono mix block by block; ``scale`` turns a channel sum into a mean."""

    def __init__(self, sample_rate: int, *, scale: float = 1.0):
        self.sample_rate = sample_rate
        self.bin = max(1, round(sample_rate / PEAKS_PER_SECOND))
        self.scale = np.float32(scale)
        self._mins: list[np.ndarray] = []
        self._maxs: list[np.ndarray] = []
        self._fill = 0  # samples in the bin still open
        self._lo = 0.0
        self._hi = 0.0
        self.total_samples = 0

    def push(self, mix: np.ndarray) -> None:
        n = len(mix)
        if n == 0:
            return
        self.total_samples += n
        offset = 0
        if self._fill:  # complete the bin left open by the last block
            offset = min(self.bin - self._fill, n)
            head = mix[:offset]
            self._lo = min(self._lo, float(head.min()))
            self._hi = max(self._hi, float(head.max()))
            self._fill += offset
            if self._fill < self.bin:
                return
            self._close_open_bin()
        whole = (n - offset) // self.bin * self.bin
        if whole:
            rows = mix[offset : offset + whole].reshape(-1, self.bin)
            self._mins.append(rows.min(axis=1))
            self._maxs.append(rows.max(axis=1))
        rest = mix[offset + whole :]
        if len(rest):
            self._lo, self._hi, self._fill = float(rest.min()), float(rest.max()), len(rest)

    def _close_open_bin(self) -> None:
        self._mins.append(np.array([self._lo], np.float32))
        self._maxs.append(np.array([self._hi], np.float32))
        self._fill = 0

    def finish(self) -> Peaks:
        if self._fill:
            self._close_open_bin()
        lo = np.concatenate(self._mins) if self._mins else np.zeros(0, np.float32)
        hi = np.concatenate(self._maxs) if self._maxs else np.zeros(0, np.float32)
        pairs = np.empty((len(lo), 2), np.float32)
        pairs[:, 0], pairs[:, 1] = lo, hi
        pairs *= self.scale * np.float32(_SCALE)
        quantized = np.clip(np.rint(pairs), -_SCALE, _SCALE).astype("<i2")
        return Peaks(self.sample_rate, self.bin, self.total_samples, quantized.tobytes())


def compute_peaks(path: Path | str) -> Peaks:
    """Peaks of a whole file from a decode of its own (files imported before peaks were kept)."""
    from wkmp_ai.audio.decode import open_audio

    with open_audio(path) as audio:
        info = audio.info
        collector = PeaksCollector(info.sample_rate, scale=1.0 / info.channels)
        for block in audio.blocks():
            collector.push(block.channel_sum)
    return collector.finish()
