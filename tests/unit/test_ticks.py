"""Tick conversion: the exact values and the Decimal floor rule (docs/design.md, *Ticks*)."""

from decimal import Decimal

import pytest

from wkmp_ai.ticks import TICKS_PER_SECOND, samples_to_ticks, seconds_to_ticks, ticks_per_sample, ticks_to_seconds

KNOWN = [
    (1, 28_224_000),
    (2.5, 70_560_000),
    (60, 1_693_440_000),
    (180.5, 5_094_432_000),
    (10.5, 296_352_000),
    (10, 282_240_000),
    (170, 4_798_080_000),
    (180, 5_080_320_000),
    # docs/design.md, *Ticks*: float64 gives 64,915,199 for 2.3 s; the exact answer is 64,915,200.
    (2.3, 64_915_200),
    (185.3, 5_229_907_200),
    (1.23456789, 34_844_444),
    (0, 0),
]


@pytest.mark.parametrize(("seconds", "ticks"), KNOWN)
def test_known_values(seconds: float, ticks: int) -> None:
    assert seconds_to_ticks(seconds) == ticks
    assert isinstance(seconds_to_ticks(seconds), int)


def test_float_multiplication_would_be_wrong() -> None:
    # The reason for the Decimal method: the naive product floors below the true value.
    import math

    assert math.floor(2.3 * TICKS_PER_SECOND) == 64_915_199
    assert seconds_to_ticks(2.3) == 64_915_200


def test_floor_not_round() -> None:
    one_tick = Decimal(1) / TICKS_PER_SECOND
    assert seconds_to_ticks(Decimal(1) + one_tick * Decimal("0.999")) == TICKS_PER_SECOND
    assert seconds_to_ticks(Decimal(-1) * one_tick / 2) == -1


@pytest.mark.parametrize("seconds", [0.001, 2.3, 180.5, 3599.999, 1e-6])
def test_round_trip_loses_under_a_millisecond(seconds: float) -> None:
    assert abs(ticks_to_seconds(seconds_to_ticks(seconds)) - seconds) < 1e-3
    assert abs(ticks_to_seconds(seconds_to_ticks(seconds)) - seconds) <= 1 / TICKS_PER_SECOND


@pytest.mark.parametrize(("rate", "per"), [(44100, 640), (48000, 588), (11025, 2560), (96000, 294), (8000, 3528)])
def test_ticks_per_sample(rate: int, per: int) -> None:
    assert ticks_per_sample(rate) == per
    assert samples_to_ticks(rate * 3, rate) == 3 * TICKS_PER_SECOND


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        seconds_to_ticks(float("nan"))
    with pytest.raises(ValueError):
        seconds_to_ticks(float("inf"))
    with pytest.raises(TypeError):
        seconds_to_ticks(True)
    with pytest.raises(ValueError):
        ticks_per_sample(44101)
    with pytest.raises(ValueError):
        ticks_per_sample(0)
