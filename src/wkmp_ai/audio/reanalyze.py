"""Passages a person has drawn by hand, analysed again: fingerprint and lead-in/out of each range.

One decode of the file serves every range (the segment editor saves a file's passages at once).
The code is the import's: the same envelopes, silence tracker and amplitude analysis
(:func:`~wkmp_ai.audio.amplitude.analyze_range`), and the same fingerprint stream, cut to each
range's first 120 s, as ``fpcalc`` would fingerprint the range cut out as a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wkmp_ai.audio.amplitude import analyze_range
from wkmp_ai.audio.analyze import effective_parameters, silence_tracker
from wkmp_ai.audio.chromaprint import SAMPLE_RATE as FP_RATE
from wkmp_ai.audio.chromaprint import ChromaprintError, fingerprint_pcm
from wkmp_ai.audio.decode import frames_per_block, open_audio
from wkmp_ai.audio.envelope import FrameAnalyzer
from wkmp_ai.audio.fingerprint import FINGERPRINT_SECONDS
from wkmp_ai.audio.silence import quiet_edges
from wkmp_ai.records.analysis import lead_ticks
from wkmp_ai.ticks import TICKS_PER_SECOND

__all__ = ["RangeAnalysis", "analyze_ranges"]


@dataclass(frozen=True)
class RangeAnalysis:
    start_ticks: int
    end_ticks: int
    fingerprint: str | None
    fingerprint_raw: tuple[int, ...]
    fingerprint_duration_s: float
    lead_in_s: float | None
    lead_out_s: float | None
    lead_in_start_ticks: int | None
    lead_out_start_ticks: int | None
    peak_rms: float


def analyze_ranges(
    path: Path | str, ranges: Sequence[tuple[int, int]], params: Mapping[str, Any]
) -> list[RangeAnalysis]:
    """Fingerprint and lead points of each (start_ticks, end_ticks) range of ``path``."""
    params = effective_parameters(params)
    with open_audio(path) as audio:
        rate = audio.info.sample_rate
        frames = FrameAnalyzer(rate, audio.info.channels, a_weighting=params["apply_a_weighting"])
        tracker = silence_tracker(params, rate, frames.hop)
        native = [(s * rate // TICKS_PER_SECOND, e * rate // TICKS_PER_SECOND) for s, e in ranges]
        # In the 11025 Hz timeline: each range's first 120 s.
        windows = [
            (
                s * FP_RATE // TICKS_PER_SECOND,
                min(e * FP_RATE // TICKS_PER_SECOND, s * FP_RATE // TICKS_PER_SECOND + FINGERPRINT_SECONDS * FP_RATE),
            )
            for s, e in ranges
        ]
        parts: list[list[np.ndarray]] = [[] for _ in ranges]
        # Blocks of whole hops, so that no hop straddles two blocks (but the last).
        for block in audio.blocks(block_frames=frames_per_block(audio.info.channels, frames.hop)):
            tracker.update(frames.push(block.pcm)[0])
            first, last = block.start, block.start + block.frames
            if not any(a < last and first < a + FINGERPRINT_SECONDS * rate + rate for a, _ in native):
                continue  # no range needs this block's fingerprint stream
            index, pcm = audio.fingerprint_samples(block)
            for i, (a, b) in enumerate(windows):
                lo, hi = max(a, index), min(b, index + len(pcm))
                if lo < hi:
                    parts[i].append(pcm[lo - index : hi - index])
        tracker.update(frames.finish())
    env = frames.envelopes()
    tracker.finish(env.total_samples)
    out = []
    for (start_ticks, end_ticks), (start, end), chunks in zip(ranges, native, parts, strict=True):
        end = min(end, env.total_samples)
        head, tail = quiet_edges(tracker.silences, start, end)
        amplitude = analyze_range(env, start, end, params, quiet_head=head, quiet_tail=tail)
        fingerprint, fp_len = None, 0
        raw: tuple[int, ...] = ()
        if chunks and not amplitude.quiet:
            samples = np.concatenate(chunks)
            fp_len = len(samples)
            try:
                encoded, items = fingerprint_pcm(samples)
                fingerprint, raw = encoded or None, tuple(int(v) for v in items)
            except ChromaprintError:
                fingerprint = None
        lead_in, lead_out = lead_ticks(start_ticks, end_ticks, amplitude.lead_in_s, amplitude.lead_out_s)
        out.append(
            RangeAnalysis(
                start_ticks=start_ticks,
                end_ticks=end_ticks,
                fingerprint=fingerprint,
                fingerprint_raw=raw,
                fingerprint_duration_s=fp_len / FP_RATE,
                lead_in_s=amplitude.lead_in_s,
                lead_out_s=amplitude.lead_out_s,
                lead_in_start_ticks=lead_in,
                lead_out_start_ticks=lead_out,
                peak_rms=round(amplitude.peak_rms, 6),
            )
        )
    return out
