"""EBU R128 loudness from per-hop K-weighted power (ITU-R BS.1770-4, EBU Tech 3341/3342).

The K-weighting (a +4 dB high shelf above ~1.7 kHz and a 38 Hz high-pass) is computed from its
analogue definition at the file's own rate, so 44.1, 48 and 96 kHz files are all weighted alike;
at 48 kHz the coefficients are those printed in BS.1770. Each channel is filtered and its mean
square per 10 ms hop is summed with the BS.1770 channel weights (1.0 for L/R/C, 1.41 for the
surround channels, LFE left out). The per-hop sums are all that is kept, so the loudness of any
passage of any length is computed afterwards from a few bytes per hop:

- integrated loudness: 400 ms blocks every 100 ms, absolute gate −70 LUFS, relative gate −10 LU;
- loudness range (LRA): 3 s short-term loudness every 100 ms, gates −70 LUFS and −20 LU,
  LRA = 95th − 10th percentile;
- dynamic complexity: the mean absolute deviation (LU) of the 400 ms block loudness from the
  integrated loudness, over the blocks that pass the −70 LUFS and −20 LU gates. This follows
  Streich's definition that Essentia's ``DynamicComplexity`` implements, but on K-weighted
  loudness: Essentia's own version uses a fixed filter designed for 44.1 kHz.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "channel_weights",
    "dynamic_complexity",
    "integrated_loudness",
    "k_weighting_sos",
    "loudness_range",
]

ABSOLUTE_GATE_LUFS = -70.0
_OFFSET = -0.691


def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """The two BS.1770 K-weighting stages as second-order sections at ``sample_rate``."""
    # Stage 1: high shelf.
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2 * (k * k - 1) / a0,
        (1 - k / q + k * k) / a0,
    ]
    # Stage 2: high-pass (RLB).
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


_SURROUND = {"BL", "BR", "SL", "SR", "LS", "RS"}


def channel_weights(channel_names: list[str]) -> np.ndarray:
    """BS.1770 weights for FFmpeg channel names (FL, FR, FC, LFE, BL, ...)."""
    weights = []
    for name in channel_names:
        upper = name.upper()
        if upper.startswith("LFE"):
            weights.append(0.0)
        elif upper in _SURROUND:
            weights.append(1.41)
        else:
            weights.append(1.0)
    return np.array(weights, dtype=np.float64)


def _blocks(power: np.ndarray, size: int, step: int) -> np.ndarray:
    """Mean power of blocks of ``size`` hops every ``step`` hops (a shorter passage is one block)."""
    if len(power) == 0:
        return np.zeros(0)
    if len(power) < size:
        return np.array([power.mean()])
    cum = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(0, len(power) - size + 1, step)
    return (cum[starts + size] - cum[starts]) / size


def _lufs(power: np.ndarray | float) -> np.ndarray:
    return _OFFSET + 10 * np.log10(np.maximum(power, 1e-30))


def _gated(blocks: np.ndarray, relative_lu: float) -> np.ndarray:
    absolute = blocks[_lufs(blocks) >= ABSOLUTE_GATE_LUFS]
    if len(absolute) == 0:
        return absolute
    threshold = _lufs(absolute.mean()) + relative_lu
    return absolute[_lufs(absolute) >= threshold]


def _hops(seconds: float, hop_s: float) -> int:
    return max(1, round(seconds / hop_s))


def integrated_loudness(power: np.ndarray, hop_s: float) -> float | None:
    """Gated integrated loudness in LUFS; None when everything is below the absolute gate."""
    blocks = _blocks(power, _hops(0.4, hop_s), _hops(0.1, hop_s))
    gated = _gated(blocks, -10.0)
    return None if len(gated) == 0 else float(_lufs(gated.mean()))


def loudness_range(power: np.ndarray, hop_s: float) -> float | None:
    """EBU Tech 3342 loudness range in LU; None when nothing passes the gates."""
    blocks = _blocks(power, _hops(3.0, hop_s), _hops(0.1, hop_s))
    gated = _gated(blocks, -20.0)
    if len(gated) == 0:
        return None
    low, high = np.percentile(_lufs(gated), [10, 95])
    return float(high - low)


def dynamic_complexity(power: np.ndarray, hop_s: float) -> float | None:
    """Mean absolute deviation (LU) of 400 ms block loudness from the integrated loudness."""
    integrated = integrated_loudness(power, hop_s)
    if integrated is None:
        return None
    blocks = _gated(_blocks(power, _hops(0.4, hop_s), _hops(0.1, hop_s)), -20.0)
    return float(np.mean(np.abs(_lufs(blocks) - integrated))) if len(blocks) else None
