"""Silence detection and passage segmentation (IMPL005, DECISIONS.md #15).

A hop (10 ms) is *silent* when the RMS of its loudest channel is below ``silence_threshold_db`` dBFS
(``20·log10(rms)``, so a full-scale sine is −3 dBFS). A *silence* is a run of silent hops lasting at
least ``min_silence_duration_ms``. Then:

- a silence that starts the file is trimmed off: the first passage starts where it ends;
- a silence that ends the file is trimmed off: the last passage ends where it starts;
- every other silence is a boundary, placed at its midpoint: one passage ends and the next starts
  there, so each keeps half the gap;
- a file that is silent throughout is one passage covering all of it (flagged quiet later).

Passages shorter than ``min_passage_duration_s`` merge into a neighbour: into the previous passage,
except those before the first long passage, which merge forward into it. The rule is simple to
predict (a click in a gap joins the song before it) and it can be decided while the file is still
being decoded, which the fingerprint stage relies on: a passage's start is final once the passage
has lasted ``min_passage_duration_s``.

Edges are found to the hop: a sound that starts at t makes the hop containing t non-silent, so the
silence before it ends within one hop (≤ 10 ms) of t, and a midpoint is within 10 ms of the true one.

:class:`SilenceTracker` runs while decoding and reports the first onset and each boundary as soon as
it is known; :func:`segment` turns the finished list of silences into passages. Both rest on the
same runs, so the online view and the final answer agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Segmentation", "SilenceRun", "SilenceTracker", "group_starts", "segment"]


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


def segment(silences: Sequence[SilenceRun], total: int, *, min_passage: int) -> Segmentation:
    """Passages (sample ranges) of a stream of ``total`` samples with these silences (all long enough)."""
    runs = tuple(silences)
    if total <= 0:
        return Segmentation((), (), runs, True)
    if len(runs) == 1 and runs[0].start <= 0 and runs[0].end >= total:
        return Segmentation(((0, total),), ((0, total),), runs, True)
    start, end = 0, total
    cuts: list[int] = []
    for run in runs:
        if run.start <= 0:
            start = run.end
        elif run.end >= total:
            end = run.start
        else:
            cuts.append(run.midpoint)
    bounds = [start, *cuts, end]
    candidates = tuple((a, b) for a, b in itertools.pairwise(bounds))
    firsts = group_starts([b - a for a, b in candidates], min_passage)
    passages = tuple(
        (candidates[i][0], candidates[j - 1][1]) for i, j in zip(firsts, [*firsts[1:], len(candidates)], strict=True)
    )
    return Segmentation(passages, candidates, runs, False)


class SilenceTracker:
    """Finds silences hop by hop while the stream decodes.

    Feed it the loudest-channel mean square of each hop; it records every silence of at least
    ``min_silence`` samples and reports, as soon as each is certain, the first onset (where the first
    passage starts) and each internal boundary.
    """

    def __init__(self, *, threshold_db: float, min_silence: int, hop: int):
        self.threshold_ms = 10.0 ** (threshold_db / 10.0)
        self.min_silence = min_silence
        self.hop = hop
        self.hops = 0
        self.run_start: int | None = None  # hop index where the current silent run began
        self.silences: list[SilenceRun] = []
        self.onset: int | None = None  # sample where the first passage starts, once known
        self.saw_silence = False  # the last update held a silent hop

    @property
    def safe_sample(self) -> int:
        """No boundary not yet reported can come before this sample."""
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

    def segmentation(self, total: int, *, min_passage: int) -> Segmentation:
        return segment(self.silences, total, min_passage=min_passage)
