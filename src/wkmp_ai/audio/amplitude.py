"""Amplitude analysis of a passage: peak RMS, lead-in, lead-out, quick ramps (docs/audio.md, *Lead-in and lead-out*).

Input is the per-hop envelope of :mod:`wkmp_ai.audio.envelope` (A-weighted mono mean squares every
10 ms). RMS windows of ``rms_window_ms`` are evaluated on that 10 ms hop, so a window is centred on
every hop and detected times are accurate to the hop rather than to the window.

**Lead-in: the end of the opening ramp.** The WKMP rule, taken literally, returns the time of the
first window at −12 dB below peak. Its own examples expect the *length of the fade* (a 3 s
crescendo → 2.5–3.5 s), which the literal rule misses by far: it gives 0.8 s for a 3 s linear fade
and 2.4 s for a 3 s fade linear in dB (docs/audio.md, *Lead-in and lead-out*). We keep the rule's
two levels and measure where the ramp between them ends:

1. ``peak_rms`` = largest window RMS. Below 0.05 the passage is *quiet*: no lead-in/lead-out (NULL
   in the database, the player uses its global crossfade) and a ``QUIET_PASSAGE`` warning.
2. The envelope is *held*: at each point, the loudest window of the last 0.5 s (looking from the
   passage's edge inwards). A steady fade is unchanged; music's dips between beats and notes are
   filled, so one soft beat does not count as "still fading".
3. The levels are taken relative to the passage's *reference level*: the 75th percentile of the held
   envelope — the level the music sits at, where the WKMP rule uses the single loudest window (one
   transient or a late climax would otherwise decide every passage's lead-in). For a steady
   signal the two are the same.
4. ``low`` = reference + ``lead_in_threshold_db`` (−12 dB by default); ``high`` = reference ×
   ``quick_ramp_threshold²`` — that is −5.0 dB at the default 0.75, the rule's hard-coded level, which
   gives the otherwise unused ``quick_ramp_threshold`` its meaning ("3/4 intensity").
5. ``t_low``, ``t_high`` = first times the held envelope reaches each level (interpolated between hops).
6. The envelope between them is fitted by a straight line in amplitude and by a straight line in dB;
   the better fit (smaller error in dB) is extended to the reference level: that is the end of the
   ramp — but no later than the first time the envelope actually reaches the reference. A
   linear-amplitude fade and a linear-in-dB fade are both measured at their true length.
7. If the level takes longer than ``max_lead_in_duration_s`` to climb from ``low`` to ``high`` there
   is no single ramp (a quiet intro, then a body below the climax): the ramp ends at ``t_low``, the
   literal rule's answer.
8. A ramp that ends before ``quick_ramp_duration_s`` is a quick ramp: lead-in 0. Otherwise lead-in is
   the ramp end, clamped to ``max_lead_in_duration_s``.

Lead-out is the same, run backwards from the passage's end with ``lead_out_threshold_db``.

**Quiet edges.** A passage that starts in silence (the file's opening silence, half of the gap
before it) keeps that silence (docs/design.md, *Passages*: passages tile the file); the ramp is then
measured from where the sound starts, and the lead-in is the silence plus the ramp. Only the ramp is clamped
to ``max_lead_in_duration_s``: the previous passage may play over all of this one's silence. The
same holds at the end for the lead-out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wkmp_ai.audio.envelope import CLIP_LEVEL, Envelopes

__all__ = ["QUIET_PEAK_RMS", "AmplitudeResult", "analyze_range", "rms_windows"]

QUIET_PEAK_RMS = 0.05
HOLD_S = 0.5  # at least one beat at 120 BPM
REFERENCE_PERCENTILE = 75  # of the held envelope: a steady passage needs a quarter of its length at level
_TINY = 1e-12


@dataclass(frozen=True)
class AmplitudeResult:
    peak_rms: float
    lead_in_s: float | None
    lead_out_s: float | None
    quick_ramp_up: bool
    quick_ramp_down: bool
    quiet: bool
    clipped: bool
    rms_profile: tuple[float, ...]
    profile_interval_s: float
    detail: dict[str, Any] = field(default_factory=dict)


def rms_windows(env: Envelopes, start: int, end: int, window_ms: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Window RMS on the hop grid inside samples [start, end).

    Returns ``(rms, centres_s, window_hops)``: one value per hop position, centre times in seconds
    from ``start``.
    """
    hop = env.hop
    n_hops = len(env.weighted_ms)
    first = min(-(-start // hop), n_hops)
    last = end // hop if end < env.total_samples else n_hops
    if last <= first:  # a passage shorter than one hop: take the hops it touches
        first, last = start // hop, min(n_hops, max(start // hop + 1, -(-end // hop)))
    lengths = env.hop_lengths()[first:last].astype(np.float64)
    energy = env.weighted_ms[first:last].astype(np.float64) * lengths
    window = max(1, round(window_ms / 1000 / env.hop_s))
    window = min(window, max(1, len(energy)))
    cum_e = np.concatenate([[0.0], np.cumsum(energy)])
    cum_n = np.concatenate([[0.0], np.cumsum(lengths)])
    sums = cum_e[window:] - cum_e[:-window]
    counts = cum_n[window:] - cum_n[:-window]
    rms = np.sqrt(np.maximum(sums, 0.0) / np.maximum(counts, 1.0))
    lead = cum_n[:-window] + counts / 2.0  # samples from the first hop to each window's centre
    centres = (first * hop - start + lead) / env.sample_rate
    return rms, centres, window


def _first_crossing(rms: np.ndarray, times: np.ndarray, level: float) -> float | None:
    hits = np.flatnonzero(rms >= level)
    if len(hits) == 0:
        return None
    i = int(hits[0])
    if i == 0:
        return float(times[0])
    r0, r1 = rms[i - 1], rms[i]
    fraction = (level - r0) / (r1 - r0) if r1 > r0 else 1.0
    return float(times[i - 1] + fraction * (times[i] - times[i - 1]))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _fit_ramp(times: np.ndarray, values: np.ndarray, peak: float) -> tuple[float, str]:
    """Extend the better of a linear-amplitude and a linear-dB fit of the ramp to level ``peak``."""
    db = 20 * np.log10(np.maximum(values, _TINY))
    peak_db = 20 * math.log10(max(peak, _TINY))
    best: tuple[float, float, str] | None = None
    for model in ("db", "amplitude"):  # on a tie (two points) the dB line extrapolates less
        y = db if model == "db" else values
        slope, intercept = _line(times, y)
        if slope <= 0:
            continue
        if model == "db":
            end = (peak_db - intercept) / slope
            error = float(np.sqrt(np.mean((intercept + slope * times - db) ** 2)))
        else:
            end = (peak - intercept) / slope
            predicted = 20 * np.log10(np.maximum(intercept + slope * times, _TINY))
            error = float(np.sqrt(np.mean((predicted - db) ** 2)))
        if best is None or error < best[1] - 1e-9:
            best = (float(end), error, model)
    if best is None:
        return float(times[-1]), "threshold"
    return best[0], best[2]


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares line through the points: (slope, intercept). ``x`` must not be constant."""
    dx = x - x.mean()
    slope = float((dx * (y - y.mean())).sum() / (dx * dx).sum())  # no BLAS: its threads would spin
    return slope, float(y.mean() - slope * x.mean())


def _hold(rms: np.ndarray, step_s: float) -> np.ndarray:
    """The loudest level of the last HOLD_S at each point: fills the dips between beats and notes.

    A running maximum over windows ``[i - size + 1, i]`` (the first value repeated before the
    start), computed in O(n) by van Herk and Gil-Werman's method: the maximum of a window that
    spans two blocks of ``size`` values is the larger of a suffix maximum of the first block and
    a prefix maximum of the second.
    """
    size = max(1, round(HOLD_S / max(step_s, 1e-9)))
    n = len(rms)
    if size <= 1 or n < 2:
        return rms
    padded = np.concatenate([np.full(size - 1, rms[0]), rms, np.full(-(n + size - 1) % size, rms[-1])])
    blocks = padded.reshape(-1, size)
    prefix = np.maximum.accumulate(blocks, axis=1).ravel()
    suffix = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.maximum(suffix[:n], prefix[size - 1 : size - 1 + n])


def _reference_level(rms: np.ndarray, step_s: float) -> float:
    if len(rms) == 0:
        return 0.0
    return float(np.percentile(_hold(rms, step_s), REFERENCE_PERCENTILE))


def _ramp_end(
    rms: np.ndarray, times: np.ndarray, *, reference: float, low_db: float, high_gain: float, max_s: float
) -> tuple[float, dict[str, Any]]:
    """End of the ramp at the start of ``rms`` (times ascending), with how it was found."""
    if len(times) > 1:
        rms = _hold(rms, float(times[1] - times[0]))
    low = reference * 10 ** (low_db / 20)
    high = max(reference * high_gain, low)
    t_low = _first_crossing(rms, times, low)
    t_high = _first_crossing(rms, times, high)
    info: dict[str, Any] = {"low_level_s": _round(t_low), "high_level_s": _round(t_high)}
    if t_low is None or t_high is None:
        return 0.0, {**info, "model": "none"}
    if high <= low or t_high - t_low <= 0:
        end, model = t_high, "threshold"
    elif t_high - t_low > max_s:
        end, model = t_low, "threshold"
    else:
        inside = (times > t_low) & (times < t_high)
        xs = np.concatenate([[t_low], times[inside], [t_high]])
        ys = np.concatenate([[low], rms[inside], [high]])
        end, model = _fit_ramp(xs, ys, reference)
        # A noisy envelope can make the fitted line too flat: the ramp is over, at the latest,
        # when the level first reaches the reference.
        t_full = _first_crossing(rms, times, reference)
        end = max(min(end, t_full if t_full is not None else end), t_high)
    return float(end), {**info, "model": model, "ramp_end_s": round(float(end), 4)}


def analyze_range(
    env: Envelopes, start: int, end: int, params: Mapping[str, Any], *, quiet_head: int = 0, quiet_tail: int = 0
) -> AmplitudeResult:
    """Amplitude analysis of samples [start, end) of an analysed stream.

    ``quiet_head`` / ``quiet_tail``: samples of silence the range starts / ends with (see
    :func:`wkmp_ai.audio.silence.quiet_edges`); the ramps are measured on the sound between them
    and the silences added to the leads.
    """
    rms, centres, window = rms_windows(env, start, end, float(params["rms_window_ms"]))
    hop_first, hop_last = start // env.hop, max(start // env.hop + 1, -(-end // env.hop))
    clipped = bool(np.any(env.peak[hop_first:hop_last] >= CLIP_LEVEL))
    peak = float(rms.max()) if len(rms) else 0.0
    profile = tuple(round(float(v), 6) for v in rms[::window])
    interval = window * env.hop_s
    common: dict[str, Any] = {
        "peak_rms": peak,
        "rms_profile": profile,
        "profile_interval_s": interval,
        "clipped": clipped,
    }
    if peak < QUIET_PEAK_RMS:
        return AmplitudeResult(
            lead_in_s=None, lead_out_s=None, quick_ramp_up=False, quick_ramp_down=False, quiet=True, **common
        )
    if end - start - quiet_head - quiet_tail < env.hop:  # "silent" throughout at a high threshold
        quiet_head = quiet_tail = 0
    head_s, tail_s = quiet_head / env.sample_rate, quiet_tail / env.sample_rate
    if quiet_head or quiet_tail:  # the ramps are measured on the sound between the quiet edges
        rms, centres, window = rms_windows(env, start + quiet_head, end - quiet_tail, float(params["rms_window_ms"]))
    duration = (end - start - quiet_head - quiet_tail) / env.sample_rate
    reference = _reference_level(rms, env.hop_s)
    high_gain = float(params["quick_ramp_threshold"]) ** 2
    quick_s = float(params["quick_ramp_duration_s"])
    results = []
    for side, times in (("in", centres), ("out", duration - centres[::-1])):
        series = rms if side == "in" else rms[::-1]
        limit = float(params[f"max_lead_{side}_duration_s"])
        ramp, info = _ramp_end(
            series,
            times,
            reference=reference,
            low_db=float(params[f"lead_{side}_threshold_db"]),
            high_gain=high_gain,
            max_s=limit,
        )
        quick = ramp < quick_s
        lead = 0.0 if quick else min(ramp, limit, duration)
        results.append((round(lead, 4), quick, info))
    (lead_in, quick_up, info_in), (lead_out, quick_down, info_out) = results
    # Both leads come from opposite ends; on a very short passage they must not cross.
    if lead_in + lead_out > duration:
        scale = duration / (lead_in + lead_out)
        lead_in, lead_out = round(lead_in * scale, 4), round(lead_out * scale, 4)
    detail = {
        "lead_in": info_in,
        "lead_out": info_out,
        "window_hops": window,
        "reference_rms": round(reference, 6),
        "quiet_head_s": round(head_s, 4),
        "quiet_tail_s": round(tail_s, 4),
    }
    lead_in, lead_out = round(head_s + lead_in, 4), round(tail_s + lead_out, 4)
    return AmplitudeResult(
        lead_in_s=lead_in,
        lead_out_s=lead_out,
        quick_ramp_up=quick_up,
        quick_ramp_down=quick_down,
        quiet=False,
        detail=detail,
        **common,
    )
