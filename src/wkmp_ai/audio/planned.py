"""Passages whose boundaries a rip's track index gives before the decode starts (docs/cue.md).

With a cue sheet, a FLAC CUESHEET or chapters, the passages are known up front: the first starts
at sample 0 (passages tile the file: audio before track 1's INDEX 01 stays in track 1), each
other one at its track's INDEX 01, and the last ends where the audio ends. Pregaps (INDEX 00)
therefore end the previous passage, which is what players do by default. Silence segmentation is
not used for such a file; the silence tracker still runs, because quiet starts and ends become
the passages' lead-in and lead-out as for any other file.

:class:`PlannedFingerprints` opens one Chromaprint context at each planned start when the stream
reaches it and feeds it to its passage's end or 120 s, whichever comes first, so every second is
fingerprinted at most once and nothing is cut back afterwards.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wkmp_ai.audio.fingerprint import FingerprintScheduler
from wkmp_ai.audio.silence import Segmentation, SilenceRun
from wkmp_ai.errors import ErrorCode
from wkmp_ai.records.analysis import AnalysisWarning
from wkmp_ai.records.trackindex import IndexFinder, TrackIndex, check_fits
from wkmp_ai.ticks import TICKS_PER_SECOND, samples_to_ticks, seconds_to_ticks

if TYPE_CHECKING:
    from wkmp_ai.audio.decode import AudioDecoder

__all__ = ["PassagePlan", "PlannedFingerprints", "index_plan", "plan_from_index", "unfit_warning"]


@dataclass(frozen=True)
class PassagePlan:
    """Where each passage starts, in native samples and in exact ticks (first 0), from ``index``."""

    index: TrackIndex
    starts: tuple[int, ...]
    start_ticks: tuple[int, ...]

    @property
    def source(self) -> str:
        return self.index.source

    def fits(self, total_samples: int, sample_rate: int) -> str | None:
        """Why the index does not describe the decoded audio, or None."""
        return check_fits(self.index, samples_to_ticks(total_samples, sample_rate))

    def segmentation(self, total: int, silences: Sequence[SilenceRun]) -> Segmentation:
        bounds = [*self.starts, total]
        passages = tuple((a, b) for a, b in itertools.pairwise(bounds))
        runs = tuple(silences)
        all_silent = len(runs) == 1 and runs[0].start <= 0 and runs[0].end >= total
        return Segmentation(passages, passages, runs, all_silent)

    def ticks(self, total: int, sample_rate: int) -> list[tuple[int, int]]:
        """Each passage's (start, end) in ticks: the index's own positions, the end as the file's length."""
        end = seconds_to_ticks(total / sample_rate)  # as for every file: the last end is files.duration
        bounds = [*self.start_ticks, end]
        return list(itertools.pairwise(bounds))


def plan_from_index(index: TrackIndex, sample_rate: int, duration_hint_s: float | None) -> PassagePlan | str:
    """The plan for ``index``, or why it cannot describe this audio (judged from the declared length)."""
    if duration_hint_s is not None and duration_hint_s > 0:
        problem = check_fits(index, seconds_to_ticks(duration_hint_s))
        if problem is not None:
            return problem
    ticks = [0, *(track.start_ticks for track in index.tracks[1:])]
    starts = [tick * sample_rate // TICKS_PER_SECOND for tick in ticks]
    return PassagePlan(index, tuple(starts), tuple(ticks))


def index_plan(
    path: Path, audio: AudioDecoder, warnings: list[AnalysisWarning], find_index: IndexFinder
) -> PassagePlan | None:
    """The passages a rip's cue sheet, CUESHEET or chapters give (docs/cue.md); None: silences decide."""
    found = find_index(path, audio.chapters())
    for problem in found.problems:
        warnings.append(AnalysisWarning(ErrorCode.CUE_SHEET_INVALID, f"cue sheet not used: {problem}"))
    if found.index is None:
        return None
    plan = plan_from_index(found.index, audio.info.sample_rate, audio.info.duration_hint_s)
    if isinstance(plan, str):
        warnings.append(unfit_warning(found.index.source, plan))
        return None
    return plan


def unfit_warning(source: str, why: str) -> AnalysisWarning:
    name = "the chapters do" if source == "chapters" else "the cue sheet does"
    return AnalysisWarning(
        ErrorCode.CUE_SHEET_INVALID, f"{name} not fit the audio ({why}); passages were found from silences instead"
    )


class PlannedFingerprints(FingerprintScheduler):
    """Fingerprint contexts at passage starts known in advance (no silence events needed)."""

    def __init__(self, *, sample_rate: int, starts: Sequence[int]):
        super().__init__(sample_rate=sample_rate, min_passage=0)
        self.plan = list(starts)
        self._opened = 0

    def begin(self) -> None:
        self.prepare(1)

    def prepare(self, native_end: int) -> None:
        """Open the contexts of the passages that start before ``native_end`` (the next block's end)."""
        while self._opened < len(self.plan) and self.plan[self._opened] < native_end:
            start = self.plan[self._opened]
            self.starts.append(start)
            self._from.append(start)
            self._long.append(True)
            self._open(start)
            if self._opened + 1 < len(self.plan):
                context = self._contexts[start]
                context.limit = min(context.limit, self._fp_index(self.plan[self._opened + 1]))
            self._opened += 1

    @property
    def wants_audio(self) -> bool:
        return any(context.open for context in self._contexts.values())

    def onset(self, native_sample: int) -> None:
        pass

    def boundary(self, native_start: int) -> None:
        pass

    def safe(self, native_sample: int) -> None:
        pass

    @property
    def undecided_start(self) -> int | None:
        return None
