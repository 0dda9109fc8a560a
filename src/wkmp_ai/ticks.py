"""Exact conversion between seconds and WKMP ticks (docs/design.md, *Ticks*).

One tick is 1/28,224,000 s: the least common multiple of every common sample rate, so a sample
boundary at any of those rates is a whole number of ticks. Conversion from seconds floors, and is
done in Decimal through ``str(seconds)`` so that 2.3 s gives 64,915,200 ticks rather than float64's
64,915,199. This module is the only place that converts.
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Decimal

TICKS_PER_SECOND = 28_224_000

__all__ = ["TICKS_PER_SECOND", "samples_to_ticks", "seconds_to_ticks", "ticks_per_sample", "ticks_to_seconds"]


def seconds_to_ticks(seconds: float | int | Decimal | str) -> int:
    """Return ``floor(seconds × 28,224,000)`` computed exactly from the decimal form of ``seconds``."""
    if isinstance(seconds, bool):
        raise TypeError("seconds must be a number, not bool")
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise ValueError(f"seconds must be finite, got {seconds!r}")
    value = seconds if isinstance(seconds, Decimal) else Decimal(str(seconds))
    return int((value * TICKS_PER_SECOND).to_integral_value(rounding=ROUND_FLOOR))


def ticks_to_seconds(ticks: int) -> float:
    """Return the nearest float number of seconds for ``ticks``."""
    return ticks / TICKS_PER_SECOND


def ticks_per_sample(sample_rate: int) -> int:
    """Ticks in one sample period; exact for every rate that divides 28,224,000."""
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    if TICKS_PER_SECOND % sample_rate:
        raise ValueError(f"{sample_rate} Hz does not divide {TICKS_PER_SECOND} ticks/s exactly")
    return TICKS_PER_SECOND // sample_rate


def samples_to_ticks(samples: int, sample_rate: int) -> int:
    """Ticks at sample index ``samples`` of a stream at ``sample_rate`` Hz (floored for odd rates)."""
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    return samples * TICKS_PER_SECOND // sample_rate
