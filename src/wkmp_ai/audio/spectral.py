"""Essentia's per-frame tonal descriptors and its Danceability, computed for all frames at once.

The flavor (:mod:`wkmp_ai.audio.flavor`) cuts the 11025 Hz stream into 2048-sample frames and,
per frame, runs ``Windowing → Spectrum → SpectralPeaks → SpectralWhitening → HPCP`` as Essentia's
``KeyExtractor`` configures them, plus the power in four bands; per window, ``Danceability``.
Called one frame at a time through Essentia's Python interface that cost ~40 ms per 30 s window
(~0.25 s per 3-minute track), more than half of it the calls themselves. Here the same arithmetic
runs on a whole window's frames as NumPy arrays (docs/audio.md, "Musical flavor"):

- ``Windowing`` (Hann, symmetric, scaled to sum 2) and ``Spectrum`` (|FFT|): one ``rfft`` of the
  frames stacked.
- ``SpectralPeaks`` (``PeakDetection`` with parabolic interpolation on the linear magnitudes):
  strict local maxima above the threshold from ``ceil(minFrequency / bin width)`` on, that first
  bin counted when it is higher than the next, up to ``maxFrequency``, the ``maxPeaks`` loudest
  (ties to the lower frequency). A frame whose spectrum has two equal neighbouring bins above
  the threshold (a plateau, which ``PeakDetection`` treats specially) is handed to Essentia itself.
- ``SpectralWhitening``: the spectral envelope at every 100 Hz up to 1.2 × ``maxFrequency`` (a
  window of quartic weights over each point's neighbourhood, weighted by the bins' energy: the
  weights are fixed, so all frames' envelopes are two matrix products), linearly interpolated at
  each peak; peaks within 30 dB of it keep their distance to it, the others get −200 dB; minus
  20 dB per 4 kHz.
- ``HPCP`` (12 classes, no harmonics, cosine weights over one semitone, unit maximum).
- ``Danceability`` (detrended fluctuation analysis): the residual of each block's straight-line
  fit from prefix sums instead of a loop per block.

The tests compare each with Essentia's own algorithm on real recordings and signals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from wkmp_ai.audio.kernels import kernels

__all__ = ["FrameAnalysis", "TonalFrames", "danceability"]

_SILENCE = 1e-10  # Essentia's lin2db floor: below it a value counts as -100 dB
_ENVELOPE_STEP_HZ = 100.0  # SpectralWhitening's bpfResolution


@dataclass(frozen=True)
class FrameAnalysis:
    hpcp: np.ndarray  # (12,) sum over frames of each frame's unit-max HPCP (A-based, as Essentia)
    bands: np.ndarray  # power per band, summed over frames
    frames: int


class TonalFrames:
    """The per-frame pipeline for frames of ``size`` samples at ``rate``, configured once."""

    def __init__(
        self,
        *,
        rate: int,
        size: int,
        band_edges_hz: tuple[float, ...],
        min_hz: float,
        max_hz: float,
        max_peaks: int,
        threshold: float,
        reference_hz: float = 440.0,
        fallback: Callable[[np.ndarray], np.ndarray] | None = None,
    ):
        self.size = size
        self.bins = size // 2 + 1
        n = np.arange(size)
        window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / (size - 1.0))
        self.window = (window * (2.0 / window.sum())).astype(np.float32)
        self.nyquist = rate / 2.0
        self.bin_hz = self.nyquist / (self.bins - 1)
        freqs = np.arange(self.bins) * rate / size
        self.band_of_bin = np.zeros((self.bins, len(band_edges_hz)), np.float64)
        self.band_of_bin[np.arange(self.bins), np.searchsorted(band_edges_hz, freqs, side="right") - 1] = 1.0
        self.min_hz, self.max_hz, self.max_peaks, self.threshold = min_hz, max_hz, max_peaks, threshold
        self.reference_hz = reference_hz
        self.first_bin = max(0, math.ceil(min_hz / self.bin_hz))
        # The last bin a peak can sit on: an interpolated position stays within half a bin of it.
        self.last_bin = min(self.bins - 2, int(max_hz / self.bin_hz) + 1)
        self._envelope_setup(max_hz * 1.2)
        self.fallback = fallback  # Essentia's own SpectralPeaks → SpectralWhitening → HPCP, for plateaus

    def _envelope_setup(self, top_hz: float) -> None:
        """SpectralWhitening's envelope points and their fixed window weights (points × bins)."""
        self.white_top_hz = top_hz
        points = []
        freq = 0.0
        while freq <= top_hz and freq <= self.nyquist:
            points.append(freq)
            freq += _ENVELOPE_STEP_HZ
        self.env_hz = np.array(points)
        weights = np.zeros((len(points), self.bins))
        last = self.bins - 1.0
        nyquist = np.float32(self.nyquist)
        for row, f in enumerate(points):  # in float32 where Essentia computes in float32
            b = int(float(np.float32(np.float32(f - max(50.0, f * 0.34)) / nyquist)) * last + 0.5)
            e = int(float(np.float32(np.float32(f + max(50.0, f * 0.58)) / nyquist)) * last + 0.5)
            b = min(self.bins - 1, max(b, 0))
            e = min(self.bins, max(e, b + 1))
            centre = b / 2.0 + e / 2.0
            half = e - centre
            i = np.arange(b, e)
            weights[row, b:e] = (1.0 - np.abs(i - centre) / half) ** 4
        self.env_weights_t = np.ascontiguousarray(weights.T)  # bins × points

    def __call__(self, audio: np.ndarray) -> FrameAnalysis:
        """All whole frames of ``audio`` (float32), back to back."""
        count = len(audio) // self.size
        frames = audio[: count * self.size].reshape(count, self.size) * self.window
        # NumPy's double-precision FFT is faster than its single-precision one.
        return self.from_spectra(np.abs(np.fft.rfft(frames.astype(np.float64), axis=1)))

    def from_spectra(self, spectrum: np.ndarray) -> FrameAnalysis:
        """The same from the frames' magnitude spectra (frames × bins)."""
        count = len(spectrum)
        power = spectrum * spectrum
        bands = power.sum(axis=0) @ self.band_of_bin
        hpcp = np.zeros((count, 12))
        plateau = self._plateaus(spectrum)
        usual = np.flatnonzero(~plateau)
        if len(usual):
            freqs, mags = self._peaks(spectrum[usual])
            hpcp[usual] = self._hpcp(freqs, self._whiten(power[usual], freqs, mags))
        for row in np.flatnonzero(plateau):
            if self.fallback is not None:
                hpcp[row] = self.fallback(spectrum[row].astype(np.float32))
        return FrameAnalysis(hpcp.sum(axis=0), bands, count)

    def _plateaus(self, spectrum: np.ndarray) -> np.ndarray:
        """Frames with two equal neighbouring bins above the threshold where peaks are sought."""
        part = spectrum[:, self.first_bin : self.last_bin + 2]
        flat = (part[:, 1:] == part[:, :-1]) & (part[:, 1:] > self.threshold)
        return flat.any(axis=1)

    def _peaks(self, spectrum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """SpectralPeaks ordered by magnitude: (frames × max_peaks) Hz and magnitudes, NaN where none.

        Our C kernel (``native/peaks.c``: each frame's loudest peaks kept in order as it is scanned)
        when built, else :meth:`_peaks_numpy`; the same results bit for bit.
        """
        native = kernels()
        if native is not None and spectrum.dtype == np.float64 and spectrum.flags.c_contiguous:
            frames, bins = spectrum.shape
            freqs = np.empty((frames, self.max_peaks))
            mags = np.empty((frames, self.max_peaks))
            code = native.spectral_peaks(
                spectrum.ctypes.data,
                frames,
                bins,
                self.first_bin,
                self.last_bin,
                self.threshold,
                self.bin_hz,
                self.max_hz,
                self.max_peaks,
                freqs.ctypes.data,
                mags.ctypes.data,
            )
            if code == 0:
                return freqs, mags
        return self._peaks_numpy(spectrum)

    def _peaks_numpy(self, spectrum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_peaks` in NumPy: strict local maxima over all frames at once, then interpolated
        and ranked only where there is one (about a third of the bins)."""
        lo, hi = self.first_bin, self.last_bin
        left, mid, right = spectrum[:, lo:hi], spectrum[:, lo + 1 : hi + 1], spectrum[:, lo + 2 : hi + 2]
        rows, cols = np.nonzero((mid > left) & (mid > right) & (mid > self.threshold))
        below, top, above = left[rows, cols], mid[rows, cols], right[rows, cols]
        delta = 0.5 * (below - above) / (below - 2.0 * top + above)  # a strict maximum: denominator < 0
        value = top - 0.25 * (below - above) * delta
        position = (cols + (lo + 1) + delta) * self.bin_hz
        inside = position <= self.max_hz
        # The first bin is a peak when it is above the next one (PeakDetection's lower boundary).
        edge = np.flatnonzero((spectrum[:, lo] > spectrum[:, lo + 1]) & (spectrum[:, lo] > self.threshold))
        rows = np.concatenate([edge, rows[inside]])
        bins = np.concatenate([np.zeros(len(edge), np.int64), cols[inside] + 1])
        value = np.concatenate([spectrum[edge, lo], value[inside]])
        position = np.concatenate([np.full(len(edge), lo * self.bin_hz), position[inside]])
        order = np.lexsort((bins, -value, rows))  # per frame, loudest first; ties: lower frequency
        rows = rows[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
        kept = rank < self.max_peaks
        rows, rank, order = rows[kept], rank[kept], order[kept]
        freqs = np.full((len(spectrum), self.max_peaks), np.nan)
        mags = np.full((len(spectrum), self.max_peaks), np.nan)
        freqs[rows, rank] = position[order]
        mags[rows, rank] = value[order]
        return freqs, mags

    def _whiten(self, power: np.ndarray, freqs: np.ndarray, mags: np.ndarray) -> np.ndarray:
        """SpectralWhitening of the peaks (NaN stays NaN)."""
        weighted = power @ self.env_weights_t
        with np.errstate(invalid="ignore", divide="ignore"):
            envelope = np.where(weighted != 0.0, (power * power) @ self.env_weights_t / weighted, 0.0)
        envelope[:, -1] = envelope[:, -2]
        with np.errstate(divide="ignore"):  # 2·lin2db(sqrt(power)): -200 dB when the root is below 1e-10
            envelope_db = np.where(envelope < _SILENCE * _SILENCE, -200.0, 10.0 * np.log10(envelope))
        amp = 2.0 * _db(mags)
        hz = np.nan_to_num(freqs)
        j = np.clip(np.ceil(hz / _ENVELOPE_STEP_HZ).astype(np.int64) - 1, 0, envelope.shape[1] - 2)
        rows = np.arange(len(power))[:, None]
        y0, y1 = envelope_db[rows, j], envelope_db[rows, j + 1]
        at_envelope = y0 + (hz - self.env_hz[j]) * (y1 - y0) / _ENVELOPE_STEP_HZ
        white = np.where(amp > at_envelope, 0.0, np.where(amp > at_envelope - 30.0, amp - at_envelope, -200.0))
        white -= 20.0 * hz / 4000.0
        white = np.where(freqs > self.white_top_hz - _ENVELOPE_STEP_HZ, amp, white)
        return np.where(np.isnan(mags), np.nan, 10.0 ** (white / 20.0))

    def _hpcp(self, freqs: np.ndarray, mags: np.ndarray) -> np.ndarray:
        """HPCP (12 bins from A, cosine weights over one semitone, unit maximum) per frame."""
        valid = (freqs >= self.min_hz) & (freqs <= self.max_hz)  # NaN compares False
        frame, peak = np.nonzero(valid)
        pcp = np.log2(freqs[frame, peak] / self.reference_hz) * 12.0
        energy = mags[frame, peak] ** 2
        out = np.zeros(len(freqs) * 12)
        left, right = np.ceil(pcp - 0.5), np.floor(pcp + 0.5)
        for offset in (0, 1):  # a window of one semitone covers one bin, two when it ends on both
            bin_ = left + offset
            use = bin_ <= right
            weight = np.cos(np.pi * np.abs(pcp[use] - bin_[use]))
            slot = frame[use] * 12 + np.mod(bin_[use], 12).astype(np.int64)
            out += np.bincount(slot, weights=weight * energy[use], minlength=len(out))
        hpcp = out.reshape(len(freqs), 12)
        top = hpcp.max(axis=1, keepdims=True)
        return np.divide(hpcp, top, out=hpcp, where=top != 0.0)


def _db(power: np.ndarray) -> np.ndarray:
    """Essentia's lin2db: 10·log10, -100 below 1e-10 (NaN stays NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(power < _SILENCE, -100.0, 10.0 * np.log10(power))


def _taus(min_ms: float = 310.0, max_ms: float = 8800.0, step: float = 1.1) -> list[int]:
    """Danceability's block sizes in 10 ms frames, stepped in float32 as Essentia steps them."""
    taus, tau, factor = [], np.float32(min_ms), np.float32(step)
    while tau <= max_ms:
        taus.append(int(float(tau) / 10.0))
        tau = np.float32(tau * factor)
    return taus


_TAUS = _taus()


def danceability(signal: np.ndarray, rate: int) -> float:
    """Essentia's ``Danceability`` (Streich's DFA) of ``signal``; 0.0 when it cannot be measured."""
    size = int(0.01 * rate)
    count = len(signal) // size
    if count < 2:
        return 0.0
    # Each block's standard deviation from its sums (one pass; NumPy's std makes four): the same
    # values to ~1e-16 relative, as audio blocks are far from the cancellation that formula fears.
    blocks = signal[: count * size].reshape(count, size).astype(np.float64)
    sums = blocks.sum(axis=1)
    squares = np.einsum("ij,ij->i", blocks, blocks)
    spread = np.sqrt(np.maximum(squares - sums * sums / size, 0.0) / (size - 1))
    s = np.cumsum(spread - spread.mean())
    p1 = np.concatenate([[0.0], np.cumsum(s)])
    p2 = np.concatenate([[0.0], np.cumsum(s * s)])
    pj = np.concatenate([[0.0], np.cumsum(np.arange(count) * s)])
    fluctuation = []
    for tau in _TAUS:
        if count < tau:
            break
        if count == tau:
            fluctuation.append(0.0)
            continue
        jump = max(tau // 50, 1)
        k = np.arange(0, count - tau, jump)
        sy = p1[k + tau] - p1[k]
        ss_yy = (p2[k + tau] - p2[k]) - sy * sy / tau
        ss_xy = (pj[k + tau] - pj[k]) - k * sy - (tau - 1.0) * 0.5 * sy
        ss_xx = tau * (tau * tau - 1.0) / 12.0
        residual = (ss_yy - ss_xy * ss_xy / ss_xx) / tau
        fluctuation.append(math.sqrt(max(float(residual.sum()), 0.0) / ((count - tau) / jump)))
    if len(fluctuation) <= 1:
        return 0.0
    total = 0.0
    for i in range(len(fluctuation) - 1):
        if fluctuation[i + 1] == 0.0 or fluctuation[i] == 0.0:
            return 0.0
        total += math.log10(fluctuation[i + 1] / fluctuation[i]) / math.log10((_TAUS[i + 1] + 3.0) / (_TAUS[i] + 3.0))
    alpha = total / (len(fluctuation) - 1)
    return 1.0 / alpha if alpha > 0.0 else 0.0
