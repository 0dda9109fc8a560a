"""Essentia's ``PercivalBpmEstimator`` with its first stage in NumPy.

Percival and Tzanetakis' estimator (Essentia's default parameters) in three steps:

1. the onset strength signal (OSS): a Hamming-windowed STFT (1024 samples every 128), the
   log-compressed magnitude ``ln(1 + 1000·|X|/1024)``, its half-wave rectified L1 flux, low-passed
   by a 15-tap FIR;
2. per 2048-value stretch of the OSS (every 128 values): generalized autocorrelation, harmonic
   enhancement, the ten strongest peaks between 210 and 50 BPM, and the lag whose pulse train best
   fits the OSS;
3. Gaussians summed at those lags, the strongest lag, and the authors' octave decision.

Essentia runs step 1 as a streaming network of one algorithm call per STFT frame: ~45 ms for a
30 s window at 11025 Hz, of which step 1 is almost all. Here step 1 is one ``rfft`` of the frames
stacked; steps 2 and 3 are Essentia's own algorithms and arithmetic (single precision, as there).
The tests compare the tempo with Essentia's estimator on real recordings and click tracks.

Essentia's estimator, called again on the same instance, also returns its first answer: its inner
network is not reset between calls. The flavor measured every window's tempo that way until this
module replaced it, so every window of a file got the first window's tempo (docs/audio.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["PercivalTempo"]

FRAME, HOP = 1024, 128
FRAME_OSS, HOP_OSS = 2048, 128
MIN_BPM, MAX_BPM = 50, 210
# Essentia's low-pass for the OSS: scipy.signal.firwin(15, 7 / (oss_rate / 2)), as printed there.
_LOWPASS = np.array(
    [
        0.00933978,
        0.01521148,
        0.03163891,
        0.05607187,
        0.08390299,
        0.10948195,
        0.12742038,
        0.13386527,
        0.12742038,
        0.10948195,
        0.08390299,
        0.05607187,
        0.03163891,
        0.01521148,
        0.00933978,
    ],
    dtype=np.float32,
)
_GAUSSIAN_SIZE, _GAUSSIAN_STD, _ACCUMULATOR = 2000, 10.0, 414
_CHUNK = 256  # STFT frames computed together
# The octave decider: feature ranges and three linear SVMs, the authors' values as Essentia has them.
_MINS = np.array([0.0321812, 1.68126e-83, 50.1745], dtype=np.float32)
_MAXS = np.array([0.863237, 0.449184, 208.807], dtype=np.float32)
_SVM_51 = (-1.955100, 0.434800, -4.644200, 3.289600)
_SVM_52 = (-3.040800, 2.759100, -6.536700, 3.081000)
_SVM_12 = (-3.462400, 3.439700, -9.489700, 1.629700)


def _gaussian() -> np.ndarray:
    i = np.arange(_GAUSSIAN_SIZE, dtype=np.float32)
    term1 = np.float32(1.0 / (_GAUSSIAN_STD * np.sqrt(2 * np.pi)))
    term2 = np.float32(-2 * _GAUSSIAN_STD**2)
    return (term1 * np.exp((i - np.float32(_GAUSSIAN_SIZE / 2)) ** 2 / term2)).astype(np.float32)


class PercivalTempo:
    """Tempo in BPM of mono float32 audio at ``rate`` (0.0 when no lag is found)."""

    def __init__(self, rate: int, algorithm: Callable[..., Callable[..., Any]]):
        """``algorithm(name, **params)`` makes a configured Essentia algorithm (``flavor._algorithm``)."""
        self.rate = rate
        self.oss_rate = np.float32(rate / HOP)
        n = np.arange(FRAME)
        self.window = (0.53836 - 0.46164 * np.cos(2.0 * np.pi * n / (FRAME - 1.0))).astype(np.float32)
        self.gaussian = _gaussian()
        self.autocorrelation = algorithm(
            "AutoCorrelation", normalization="standard", generalized=True, frequencyDomainCompression=0.5
        )
        self.enhance = algorithm("PercivalEnhanceHarmonics")
        self.peaks = algorithm(
            "PeakDetection",
            maxPeaks=10,
            range=FRAME_OSS - 1,
            minPosition=int(self.oss_rate * 60.0 / MAX_BPM),
            maxPosition=int(self.oss_rate * 60.0 / MIN_BPM),
            orderBy="amplitude",
            interpolate=True,
        )
        self.pulse_trains = algorithm("PercivalEvaluatePulseTrains")

    def onset_strength(self, audio: np.ndarray) -> np.ndarray:
        """Step 1: one OSS value per full 1024-sample frame, every 128 samples."""
        count = (len(audio) - FRAME) // HOP + 1 if len(audio) >= FRAME else 0
        if count == 0:
            return np.zeros(0, np.float32)
        flux = np.empty(count, np.float32)
        previous = np.zeros(FRAME // 2 + 1, np.float32)
        frames = np.lib.stride_tricks.sliding_window_view(audio, FRAME)[::HOP]
        for first in range(0, count, _CHUNK):  # a chunk of frames at a time: its arrays stay in cache
            chunk = frames[first : min(first + _CHUNK, count)] * self.window
            # NumPy's double-precision FFT is twice as fast as its single-precision one here.
            spectrum = np.abs(np.fft.rfft(chunk.astype(np.float64), axis=1)).astype(np.float32)
            spectrum *= np.float32(1000.0 / FRAME)
            spectrum += np.float32(1.0)
            np.log(spectrum, out=spectrum)
            rise = np.diff(spectrum, axis=0, prepend=previous[None])
            np.maximum(rise, 0.0, out=rise)
            flux[first : first + len(spectrum)] = rise.sum(axis=1, dtype=np.float32)
            previous = spectrum[-1]
        return np.convolve(flux, _LOWPASS)[:count].astype(np.float32)

    def __call__(self, audio: np.ndarray) -> float:
        oss = self.onset_strength(np.ascontiguousarray(audio, dtype=np.float32))
        lags = []
        start = 0
        while start < len(oss):  # every stretch, the last one zero-padded (Essentia's FrameCutter)
            stretch = np.zeros(FRAME_OSS, np.float32)
            piece = oss[start : start + FRAME_OSS]
            stretch[: len(piece)] = piece
            positions, _ = self.peaks(self.enhance(self.autocorrelation(stretch)))
            lag = int(self.pulse_trains(stretch, positions))
            if lag > -1:
                lags.append(lag)
            if len(oss) - start <= FRAME_OSS:
                break
            start += HOP_OSS
        return self._decide(lags)

    def _decide(self, lags: list[int]) -> float:
        """Step 3: the strongest lag of the summed Gaussians, and its octave."""
        if not lags:
            return 0.0
        accum = np.zeros(_ACCUMULATOR, np.float32)
        half = _GAUSSIAN_SIZE // 2
        for lag in lags:
            accum += self.gaussian[half - lag : half - lag + _ACCUMULATOR]
        selected = int(np.argmax(accum))
        bpm = np.float32(float(self.oss_rate) * 60.0 / selected)
        total = self._energy(accum, 0, _ACCUMULATOR - 1, np.float32(1.0))
        features = np.array(
            [
                self._energy(accum, 0, selected - 10.0, np.float32(1.0) / total),
                self._energy(accum, 0.5 * selected - 10.0, 0.5 * selected + 10.0, np.float32(1.0) / total),
                bpm,
            ],
            dtype=np.float32,
        )
        features = (features - _MINS) / (_MAXS - _MINS)

        def svm(w: tuple[float, ...]) -> float:
            return float(
                np.float32(w[3])
                + features[0] * np.float32(w[0])
                + features[1] * np.float32(w[1])
                + features[2] * np.float32(w[2])
            )

        multiplier = 1.0
        if svm(_SVM_52) > 0.0 and svm(_SVM_12) > 0.0:
            multiplier = 2.0
        if svm(_SVM_51) <= 0.0 and svm(_SVM_52) <= 0.0:
            multiplier = 0.5
        return float(np.float32(multiplier) * bpm)

    @staticmethod
    def _energy(array: np.ndarray, low: float, high: float, scale: np.float32) -> np.float32:
        lo, hi = max(math.floor(low + 0.5), 0), min(math.floor(high + 0.5), len(array) - 1)  # C's round()
        return np.float32(scale * array[lo : hi + 1].sum(dtype=np.float32))
