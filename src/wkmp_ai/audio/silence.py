"""Silence detection and passage segmentation (docs/design.md, *Segmentation*; *Passages*).

A hop (10 ms) is *silent* when the RMS of its loudest channel is below ``silence_threshold_db`` dBFS
(``20·log10(rms)``, so a full-scale sine is −3 dBFS). A *silence* is a run of silent hops lasting at
least ``min_silence_duration_ms``. Then the passages **tile the file**:

- the first passage starts at sample 0 and the last ends at the last decoded sample: a silence
  that starts or ends the file stays inside its passage, where lead-in/lead-out describe it
  (:func:`quiet_edges`); nothing is cut off;
- every other silence is a boundary, placed at its midpoint: one passage ends and the next starts
  there, so each keeps half the gap;
- a file that is silent throughout is one passage covering all of it (flagged quiet later).

Passages shorter than ``min_passage_duration_s`` merge into a neighbour: into the previous passage,
except those before the first long passage, which merge forward into it. The rule is simple to
predict (a click in a gap joins the song before it) and it can be decided while the file is still
being decoded, which the fingerprint stage relies on: a passage's start is final once the passage
has lasted ``min_passage_duration_s``. What counts for that length is the sound: the first
candidate is measured from where the sound starts, the last up to where it ends, so a click
followed by ten seconds of silence at the end of a file is still a short piece.

Edges are found to the hop: a sound that starts at t makes the hop containing t non-silent, so the
silence before it ends within one hop (≤ 10 ms) of t, and a midpoint is within 10 ms of the true one.

:class:`SilenceTracker` runs while decoding and reports where the sound starts and each boundary as
soon as it is known; :func:`segment` turns the finished list of silences into passages. Both rest
on the same runs, so the online view and the final answer agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Segmentation", "SilenceRun", "SilenceTracker", "group_starts", "quiet_edges", "segment"]


@dataclass(frozen=True)
class SilenceRun:
    start: int  # sample index
    end: int  # sample index (exclusive)

    @property
    def midpoint(self) -> int:
        return (self.start + self.end) // 2


@dataclass(frozen=True)
class Segmentation:
    passages: tuple[tuple[int, int], ...]  # sample ranges, in order, touching at boundaries
    candidates: tuple[tuple[int, int], ...]  # before short passages were merged
    silences: tuple[SilenceRun, ...]
    all_silent: bool


def group_starts(lengths: Sequence[int], min_length: int) -> list[int]:
    """Indices of the candidates that start a passage after merging short ones.

    A candidate shorter than ``min_length`` joins the passage before it; candidates before the first
    long one join that long one; if none is long, everything is one passage.
    """
    starts = [0]
    seen_long = False
    for index, length in enumerate(lengths):
        if length >= min_length:
            if seen_long:
                starts.append(index)
            seen_long = True
    return starts


def _sound_span(runs: Sequence[SilenceRun], total: int) -> tuple[int, int]:
    """Where the sound starts and ends: after a silence that starts the file, before one that ends it."""
    start, end = 0, total
    for run in runs:
        if run.start <= 0:
            start = run.end
        if run.end >= total:
            end = run.start
    return start, end


def segment(silences: Sequence[SilenceRun], total: int, *, min_passage: int) -> Segmentation:
    """Passages (sample ranges tiling ``[0, total)``) of a stream with these silences (all long enough)."""
    runs = tuple(silences)
    if total <= 0:
        return Segmentation((), (), runs, True)
    if len(runs) == 1 and runs[0].start <= 0 and runs[0].end >= total:
        return Segmentation(((0, total),), ((0, total),), runs, True)
    cuts = [run.midpoint for run in runs if run.start > 0 and run.end < total]
    bounds = [0, *cuts, total]
    candidates = tuple((a, b) for a, b in itertools.pairwise(bounds))
    # Lengths for merging count the sound only: not a silence that starts or ends the file.
    sound_start, sound_end = _sound_span(runs, total)
    lengths = [b - a for a, b in candidates]
    lengths[0] = min(candidates[0][1], sound_end) - sound_start
    if len(candidates) > 1:
        lengths[-1] = sound_end - candidates[-1][0]
    firsts = group_starts(lengths, min_passage)
    passages = tuple(
        (candidates[i][0], candidates[j - 1][1]) for i, j in zip(firsts, [*firsts[1:], len(candidates)], strict=True)
    )
    return Segmentation(passages, candidates, runs, False)


def quiet_edges(silences: Sequence[SilenceRun], start: int, end: int) -> tuple[int, int]:
    """Samples of silence at the start and at the end of the range ``[start, end)``.

    A passage that starts in a silence (the file's opening silence, or half of a gap between
    songs) begins quiet until that silence ends; likewise at its end. These stretches are part of
    the passage and become part of its lead-in and lead-out.
    """
    head = tail = 0
    for run in silences:
        if run.start <= start < run.end:
            head = min(run.end, end) - start
        if run.start < end <= run.end:
            tail = end - max(run.start, start)
    if head + tail > end - start:  # the range is silent throughout
        head, tail = end - start, 0
    return head, tail


class SilenceTracker:
    """Finds silences hop by hop while the stream decodes.

    Feed it the loudest-channel mean square of each hop; it records every silence of at least
    ``min_silence`` samples and reports, as soon as each is certain, the first onset (where the
    sound starts: the first passage starts at 0 all the same, but its length for merging is
    measured from here) and each internal boundary.
    """

    def __init__(self, *, threshold_db: float, min_silence: int, hop: int):
        self.threshold_ms = 10.0 ** (threshold_db / 10.0)
        self.min_silence = min_silence
        self.hop = hop
        self.hops = 0
        self.run_start: int | None = None  # hop index where the current silent run began
        self.silences: list[SilenceRun] = []
        self.onset: int | None = None  # sample where the sound starts, once known
        self.saw_silence = False  # the last update held a silent hop
        self.sound_end: int | None = None  # once the stream has ended: where its sound ends

    @property
    def safe_sample(self) -> int:
        """No boundary not yet reported can come before this sample (at the end: where the sound ends)."""
        if self.sound_end is not None:
            return self.sound_end
        if self.run_start is not None:
            return self.run_start * self.hop
        return self.hops * self.hop

    def update(self, loudest_ms: np.ndarray) -> list[int]:
        """Consume hops; return the boundaries (sample indices) that became certain, in order."""
        boundaries: list[int] = []
        self.saw_silence = False
        if len(loudest_ms) == 0:
            return boundaries
        silent = loudest_ms < self.threshold_ms
        self.saw_silence = bool(silent.any())
        changes = np.flatnonzero(silent[1:] != silent[:-1]) + 1
        edges = [0, *changes.tolist(), len(silent)]
        for a in edges[:-1]:
            if silent[a]:
                if self.run_start is None:
                    self.run_start = self.hops + a
            elif self.run_start is not None:
                self._close_run(self.run_start, self.hops + a, boundaries)
                self.run_start = None
            if not silent[a] and self.onset is None:
                self.onset = 0
        self.hops += len(silent)
        return boundaries

    def _close_run(self, start_hop: int, end_hop: int, boundaries: list[int], total: int | None = None) -> None:
        start = start_hop * self.hop
        end = end_hop * self.hop if total is None else total
        long_enough = end - start >= self.min_silence
        if start_hop == 0 and self.onset is None:
            self.onset = end if long_enough else 0
            if long_enough:
                self.silences.append(SilenceRun(start, end))
            return
        if long_enough:
            run = SilenceRun(start, end)
            self.silences.append(run)
            if total is None:
                boundaries.append(run.midpoint)

    def finish(self, total: int) -> None:
        """The stream ended after ``total`` samples: close a silence still running (a trailing one)."""
        if self.run_start is not None:
            ignored: list[int] = []
            self._close_run(self.run_start, self.hops, ignored, total=total)
            self.run_start = None
        if self.onset is None:
            self.onset = 0
        self.sound_end = _sound_span(self.silences, total)[1]

    def segmentation(self, total: int, *, min_passage: int) -> Segmentation:
        return segment(self.silences, total, min_passage=min_passage)
