"""Per-hop envelopes of the decoded stream: the small arrays every later decision is made from.

The stream is cut into hops of ``sr // 100`` samples (10 ms at 44.1/48/96 kHz, 9.98 ms at
22.05 kHz). For each hop we keep

- ``loudest_channel_ms``: the mean square of the loudest channel — the silence detector's input, so
  a gap is silent only when *every* channel is below the threshold;
- ``weighted_ms``: the mean square of the mono mix (mean of the channels), A-weighted when
  ``apply_a_weighting`` is set — the amplitude analysis' input;
- ``peak``: the largest absolute sample of any channel — for clipping warnings. It is exact per
  hop in the blocks that reach ``CLIP_LEVEL``; elsewhere it is the block's own peak, which is
  below the level, and that is all a clipping check needs to know.

The first is consumed at once by the silence tracker; the other two are kept, as float32: 100
values a second, under 3 MB an hour whatever the sample rate.

A-weighting is the IEC 61672 analogue curve (poles at 20.6 Hz ×2, 107.7 Hz, 737.9 Hz, 12194 Hz ×2,
four zeros at 0 Hz) turned into a digital IIR at the file's own sample rate by the bilinear
transform. The 12194 Hz pole pair is pre-warped so that it lands at 12194 Hz after the transform;
without that, the bilinear transform bends the top octave down (−4 dB instead of −2.5 dB at
10 kHz at 44.1 kHz). The result keeps within IEC 61672 class-1 tolerances at 44.1, 48 and 96 kHz
(tested). The filter runs as float32 second-order sections: the error that leaves in an
energy envelope is below −60 dB of the signal, and it halves the cost of the filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wkmp_ai.audio.iir import a_weighted_envelope, energy_and_slope, filtered_power, weightings

__all__ = [
    "CLIP_LEVEL",
    "Envelopes",
    "FrameAnalyzer",
    "a_weighting_sos",
    "channel_sum",
    "hop_energy",
    "hop_samples",
]

CLIP_LEVEL = 0.99  # a sample this loud counts as clipped
_ONE_ROW = np.ones(1)  # the weight of the one row (the mix) whose filtered power is summed
_A_POLES_HZ = (20.598997, 20.598997, 107.65265, 737.86223, 12194.217, 12194.217)


def hop_samples(sample_rate: int) -> int:
    """Samples per envelope hop: 10 ms, floored to whole samples."""
    return max(1, sample_rate // 100)


def a_weighting_sos(sample_rate: int) -> np.ndarray:
    """IEC 61672 A-weighting as second-order sections at ``sample_rate``, 0 dB at 1 kHz.

    The bilinear transform maps each analogue pole ``p`` to ``(2fs + p) / (2fs - p)``, the four
    zeros at 0 Hz to z = 1 and the two the analogue filter has at infinity to z = -1. Poles and
    zeros are paired into sections as ``scipy.signal.zpk2sos`` pairs them (the pole nearest the
    unit circle with the next such pole and the zeros nearest to it, those sections last), the
    gain in the first: the same filter, designed without importing SciPy (tests compare them).
    """
    nyquist_guard = 0.45 * sample_rate
    fs2 = 2.0 * sample_rate
    poles = []
    for f in _A_POLES_HZ:
        if f > 1000.0:  # pre-warp the high poles so the bilinear transform puts them where they belong
            f = sample_rate / np.pi * np.tan(np.pi * min(f, nyquist_guard) / sample_rate)
        s = -2.0 * np.pi * f
        poles.append((fs2 + s) / (fs2 - s))
    poles.sort(key=lambda p: abs(1.0 - abs(p)))  # the "worst" (nearest the unit circle) first
    zeros = [1.0, 1.0, 1.0, 1.0, -1.0, -1.0]
    sections: list[list[complex]] = []
    while poles:
        p1, p2 = poles.pop(0), poles.pop(0)
        z1 = zeros.pop(int(np.argmin([abs(z - p1) for z in zeros])))
        z2 = zeros.pop(int(np.argmin([abs(z - p1) for z in zeros])))
        sections.insert(0, [1.0, -(z1 + z2), z1 * z2, 1.0, -(p1 + p2), p1 * p2])
    sos = np.array(sections)
    w = np.exp(-2j * np.pi * 1000.0 / sample_rate)  # z^-1 at 1 kHz
    response = np.prod([np.polyval(s[2::-1], w) / np.polyval(s[:2:-1], w) for s in sos])
    sos[0, :3] /= abs(response)
    return sos


def channel_sum(pcm: np.ndarray) -> np.ndarray:
    """Sum of the channels, in one pass: the mono mix times the channel count (scaled back later)."""
    if pcm.shape[0] == 1:
        return pcm[0]
    total = np.add(pcm[0], pcm[1])
    for row in pcm[2:]:
        total += row
    return total


def hop_energy(pcm: np.ndarray, hop: int) -> np.ndarray:
    """Sum of squares per channel and hop of a (channels, n·hop) block: shape (channels, n).

    One row-wise dot product per channel; works on planar blocks and on strided views of
    interleaved ones alike, without temporaries (and without BLAS, whose threads would only add
    CPU time in a pool that already runs one file per core).
    """
    channels, total = pcm.shape
    n = total // hop
    out = np.empty((channels, n), np.float32)
    for c in range(channels):
        rows = pcm[c, : n * hop].reshape(n, hop)
        np.einsum("ij,ij->i", rows, rows, out=out[c])
    return out


@dataclass(frozen=True)
class Envelopes:
    """The per-hop arrays of a whole stream (or the part decoded so far)."""

    sample_rate: int
    hop: int
    total_samples: int
    weighted_ms: np.ndarray  # float32 per hop
    peak: np.ndarray  # float32 per hop

    @property
    def hop_s(self) -> float:
        return self.hop / self.sample_rate

    def hop_lengths(self) -> np.ndarray:
        """Samples in each hop (all ``hop`` but the last, which may be partial)."""
        n = len(self.weighted_ms)
        lengths = np.full(n, self.hop, dtype=np.int64)
        if n:
            lengths[-1] = self.total_samples - (n - 1) * self.hop
        return lengths


class FrameAnalyzer:
    """Consumes planar float32 blocks and grows the per-hop envelopes.

    The channel sum of each block is handed back (the fingerprint and the editor's peaks use it). The
    A-weighting never changes it: the filter and the per-hop sums run in one pass that only reads it.

    With ``loudness`` (the K-weighting's sections and the channels' weights) it also sums, per hop,
    what the flavor's loudness and centroid need (:meth:`loudness_sums`), in the same pass as the
    A-weighting (:func:`~wkmp_ai.audio.iir.weightings`).
    """

    def __init__(
        self,
        sample_rate: int,
        channels: int,
        *,
        a_weighting: bool = True,
        loudness: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        self.sample_rate = sample_rate
        self.channels = channels
        self.hop = hop_samples(sample_rate)
        # The mono mix is formed as a channel sum; the 1/channels goes into the filter's gain
        # (or into the energies when there is no filter), saving a pass over every block.
        self._gain = 1.0 / channels
        if a_weighting:
            sos = a_weighting_sos(sample_rate)
            sos[0, :3] *= self._gain
            self._sos: np.ndarray | None = np.ascontiguousarray(sos, dtype=np.float32)
            self._energy_scale = np.float32(1.0)
            self._zi = np.zeros((1, self._sos.shape[0], 2), np.float32)  # filter state, carried across blocks
        else:
            self._sos = None
            self._energy_scale = np.float32(self._gain**2)
        self._carry = np.zeros((channels, 0), np.float32)
        self._carry_mix = np.zeros(0, np.float32)
        self._weighted: list[np.ndarray] = []
        self._peak: list[np.ndarray] = []
        self._k_sos: np.ndarray | None = None
        if loudness is not None:
            sos, weights = loudness
            self._k_sos = np.ascontiguousarray(sos, dtype=np.float32)
            self._k_weights = np.asarray(weights, dtype=np.float64)
            self._k_zi = np.zeros((channels, self._k_sos.shape[0], 2), np.float32)
        self._prev = 0.0  # the mix's last sample so far (its first difference spans the pieces)
        self._loudness: list[np.ndarray] = []
        self.total_samples = 0
        self.hops_done = 0

    def _weighted_energy(self, mix: np.ndarray, hop: int) -> np.ndarray:
        """Per hop, the energy of the A-weighted mix (the filter and the sums in one pass, no copy)."""
        if self._sos is None:
            hops = mix.reshape(-1, hop)
            return np.einsum("nh,nh->n", hops, hops) * (self._energy_scale / np.float32(hop))
        row = np.ascontiguousarray(mix, dtype=np.float32).reshape(1, -1)
        return (filtered_power(self._sos, row, self._zi, _ONE_ROW, hop) / hop).astype(np.float32)

    def _weighted_and_loudness(self, pcm: np.ndarray, mix: np.ndarray, hop: int) -> np.ndarray:
        """:meth:`_weighted_energy`, keeping per hop the K-weighted power of the channels and the
        energy and slope energy of the mix (float32: 1.3 MB an hour for the three)."""
        assert self._k_sos is not None
        mix = np.ascontiguousarray(mix, dtype=np.float32)
        if self._sos is None:
            weighted = self._weighted_energy(mix, hop)
            rows = np.ascontiguousarray(pcm, dtype=np.float32)
            k_power = filtered_power(self._k_sos, rows, self._k_zi, self._k_weights, hop)
            energy, slope = energy_and_slope(mix, self._prev, hop)
        else:
            a_power, k_power, energy, slope = weightings(
                self._sos, self._zi, self._k_sos, self._k_zi, self._k_weights, pcm, mix, self._prev, hop
            )
            weighted = (a_power / hop).astype(np.float32)
        self._prev = float(mix[-1])
        self._loudness.append(np.array([k_power, energy, slope], np.float32))
        return weighted

    def loudness_sums(self) -> np.ndarray:
        """Per hop (3, hops) float32: K-weighted channel power, mix energy, mix slope energy (sums, not means)."""
        if not self._loudness:
            return np.zeros((3, 0), np.float32)
        if len(self._loudness) > 1:
            self._loudness = [np.concatenate(self._loudness, axis=1)]
        return self._loudness[0]

    def push(self, pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add a block; return (loudest_channel_ms for the hops it completed, the block's channel sum).

        The channel sum (the mono mix times the channel count, before weighting) is handed back so
        that later consumers (the fingerprint's mono mix, the editor's peaks) need not mix again.
        """
        n = pcm.shape[1]
        self.total_samples += n
        if n == 0:
            return np.zeros(0), channel_sum(pcm)
        hop = self.hop
        whole_hops = not self._carry.shape[1] and n % hop == 0  # nothing left over (the usual case)
        if whole_hops and self._k_sos is None and self._sos is not None:
            # Without flavor: the mix, its A-weighting, the channels' energies and the peak in one
            # pass of our C kernel (None: it is missing, and NumPy makes them below).
            fused = a_weighted_envelope(self._sos, self._zi, pcm, hop)
            if fused is not None:
                a_power, energy, mix, top = fused
                loud = (energy.max(axis=0) if self.channels > 1 else energy[0]) / hop
                self._keep(pcm, (a_power / hop).astype(np.float32), hop, top)
                return loud, mix
        mix = channel_sum(pcm)  # A-weighted per hop in _add, in order (the filter carries its state)
        if whole_hops:
            return self._add(pcm, mix), mix
        parts = []
        offset = 0
        if self._carry.shape[1]:  # complete the hop left over from the last block
            offset = min(hop - self._carry.shape[1], n)
            self._carry = np.concatenate([self._carry, pcm[:, :offset]], axis=1)
            self._carry_mix = np.concatenate([self._carry_mix, mix[:offset]])
            if self._carry.shape[1] < hop:
                return np.zeros(0), mix
            parts.append(self._add(self._carry, self._carry_mix))
        whole = offset + (n - offset) // hop * hop
        if whole > offset:
            parts.append(self._add(pcm[:, offset:whole], mix[offset:whole]))
        self._carry = np.array(pcm[:, whole:], dtype=np.float32)
        self._carry_mix = np.array(mix[whole:], dtype=np.float32)
        loud = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else np.zeros(0))
        return loud, mix

    def _add(self, pcm: np.ndarray, mix: np.ndarray) -> np.ndarray:
        """Envelope values of whole hops (or of one final partial hop); ``mix`` is the block's channel sum."""
        hop = self.hop if pcm.shape[1] >= self.hop else pcm.shape[1]
        energy = hop_energy(pcm, hop)
        loud = (energy.max(axis=0) if self.channels > 1 else energy[0]).astype(np.float64) / hop
        if self._k_sos is None:
            weighted = self._weighted_energy(mix, hop)
        else:
            weighted = self._weighted_and_loudness(pcm, mix, hop)
        self._keep(pcm, weighted, hop, None)
        return loud

    def _keep(self, pcm: np.ndarray, weighted: np.ndarray, hop: int, top: float | None) -> None:
        """Keep a piece's A-weighted energies and its peaks per hop (``top``: its largest |sample|)."""
        self._weighted.append(weighted)
        n = len(weighted)
        if top is None:
            top = max(float(pcm.max()), -float(pcm.min()))
        # Peaks matter only at the clipping level: look per hop only in pieces that get there.
        if top >= CLIP_LEVEL:
            frames = pcm.reshape(self.channels, n, hop)
            self._peak.append(np.maximum(frames.max(axis=(0, 2)), -frames.min(axis=(0, 2))))
        else:
            self._peak.append(np.full(n, top, np.float32))
        self.hops_done += n

    def finish(self) -> np.ndarray:
        """Flush the last partial hop; return its loudest-channel value (or an empty array)."""
        loud = self._add(self._carry, self._carry_mix) if self._carry.shape[1] else np.zeros(0)
        self._carry = np.zeros((self.channels, 0), np.float32)
        self._carry_mix = np.zeros(0, np.float32)
        return loud

    def envelopes(self) -> Envelopes:
        """The whole stream's envelopes (the per-block pieces are joined once and let go)."""

        def join(parts: list[np.ndarray]) -> np.ndarray:
            whole = np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
            parts[:] = [whole]
            return whole

        return Envelopes(
            sample_rate=self.sample_rate,
            hop=self.hop,
            total_samples=self.total_samples,
            weighted_ms=join(self._weighted),
            peak=join(self._peak),
        )
