"""Per-passage fingerprints from the single decode (docs/audio.md, *Fingerprints*).

Each passage is fingerprinted over its first 120 s, as ``fpcalc`` would fingerprint the passage cut
out as a file. Passage starts are only known while the file streams past (a boundary is certain
once its silence has ended), so a chromaprint context is opened at each possible start and fed the
11025 Hz stream from that point; a short ring buffer (130 s) covers the delay between a boundary
and the moment it becomes certain.

Merging (see :mod:`wkmp_ai.audio.silence`) is decided online too: a candidate that proves short
loses its context; one that proves long after an earlier long one starts a new passage, which
closes the previous passage's context. So at most two contexts are ever fed at once, and each
second of audio is fingerprinted about once. A context may have been fed a little beyond its
passage's end; since the items of a prefix are a prefix of the items, the raw fingerprint is cut to
the passage's length (:func:`~wkmp_ai.audio.chromaprint.items_for_samples`) before it is encoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wkmp_ai.audio.chromaprint import SAMPLE_RATE, ChromaprintError, Fingerprinter, encode, items_for_samples

__all__ = ["FINGERPRINT_SECONDS", "FingerprintResult", "FingerprintScheduler"]

FINGERPRINT_SECONDS = 120
BUFFER_SECONDS = 130


@dataclass(frozen=True)
class FingerprintResult:
    fingerprint: str | None
    raw: tuple[int, ...]
    duration_s: float  # seconds of audio the fingerprint covers
    problem: str | None = None


class _Context:
    def __init__(self, start: int):
        self.start = start  # index in the 11025 Hz stream
        self.next = start  # next stream sample it wants
        self.limit = start + FINGERPRINT_SECONDS * SAMPLE_RATE
        self.raw: np.ndarray | None = None
        self.problem: str | None = None
        self.fp: Fingerprinter | None = None
        try:
            self.fp = Fingerprinter()
        except ChromaprintError as exc:
            self.problem = str(exc)

    @property
    def open(self) -> bool:
        return self.fp is not None and self.next < self.limit

    def close(self) -> None:
        if self.fp is not None:
            self.raw = self.fp.finish()
            self.fp = None

    def drop(self) -> None:
        if self.fp is not None:
            self.fp.close()
            self.fp = None


class FingerprintScheduler:
    """Feeds chromaprint contexts for every passage start the silence tracker reports."""

    def __init__(self, *, sample_rate: int, min_passage: int):
        self.sample_rate = sample_rate
        self.min_passage = min_passage  # in native samples
        self._chunks: list[tuple[int, np.ndarray]] = []  # (stream index, samples), newest last
        self.written = 0
        self.starts: list[int] = []  # candidate starts, native samples
        self._from: list[int | None] = []  # where each candidate's length is measured from (its sound)
        self._long: list[bool] = []
        self._contexts: dict[int, _Context] = {}  # native start sample -> context
        self._group: int | None = None  # native start of the passage whose context is open
        self.new_passage_starts: list[int] = []  # passage starts decided since the caller last took them

    def _fp_index(self, native: int) -> int:
        return round(native * SAMPLE_RATE / self.sample_rate)

    # --- the stream -------------------------------------------------------------------------
    @property
    def wants_audio(self) -> bool:
        """True while some context still takes audio (or none has started yet)."""
        return not self.starts or any(context.open for context in self._contexts.values())

    def feed(self, index: int, pcm: np.ndarray) -> None:
        """Add 11025 Hz samples starting at stream position ``index`` (after a gap, if audio was skipped)."""
        if len(pcm):
            self._chunks.append((index, pcm))
            self.written = index + len(pcm)
            oldest = self.written - BUFFER_SECONDS * SAMPLE_RATE
            while self._chunks and self._chunks[0][0] + len(self._chunks[0][1]) <= oldest:
                self._chunks.pop(0)
        for context in self._contexts.values():
            self._feed_context(context)

    def _feed_context(self, context: _Context) -> None:
        if not context.open or context.next >= self.written:
            return
        if not self._chunks or self._chunks[0][0] > context.next:
            context.problem = f"the passage starts more than {BUFFER_SECONDS} s before its start could be known"
            context.drop()
            return
        for index, samples in self._chunks:
            end = index + len(samples)
            if end <= context.next:
                continue
            if index > context.next:  # should not happen: audio a context needs was skipped
                context.problem = "audio the fingerprint needs was not resampled"
                context.drop()
                return
            stop = min(end, context.limit)
            assert context.fp is not None
            context.fp.feed(samples[context.next - index : stop - index])
            context.next = stop
            if not context.open:
                break

    # --- events from the silence tracker ----------------------------------------------------
    def _open(self, native_start: int) -> None:
        context = _Context(self._fp_index(native_start))
        self._contexts[native_start] = context
        self._feed_context(context)

    def begin(self) -> None:
        """The first passage starts at sample 0 (docs/design.md, *Passages*): its context opens at once."""
        self.starts.append(0)
        self._from.append(None)
        self._long.append(False)
        self._group = 0
        self.new_passage_starts.append(0)
        self._open(0)

    def onset(self, native_sample: int) -> None:
        """The sound starts here: the first candidate's length counts from this point."""
        if self._from and self._from[0] is None:
            self._from[0] = native_sample

    def _length(self, index: int, until: int) -> int | None:
        origin = self._from[index]
        return None if origin is None else until - origin

    def boundary(self, native_start: int) -> None:
        last = len(self.starts) - 1
        if last >= 0 and not self._long[last]:  # the candidate that just ended now has its final length
            length = self._length(last, native_start)
            if length is not None and length >= self.min_passage:
                self._mark_long(last)
            elif last > 0:  # short: it merges into the passage before it
                self._contexts[self.starts[last]].drop()
        self.starts.append(native_start)
        self._from.append(native_start)
        self._long.append(False)
        self._open(native_start)

    def safe(self, native_sample: int) -> None:
        """No boundary before ``native_sample`` is still to come: decide whether the last candidate is long."""
        if not self.starts:
            return
        last = len(self.starts) - 1
        length = self._length(last, native_sample)
        if not self._long[last] and length is not None and length >= self.min_passage:
            self._mark_long(last)

    @property
    def undecided_start(self) -> int | None:
        """Start of the last candidate while it may still become a passage start."""
        last = len(self.starts) - 1
        return self.starts[last] if last > 0 and not self._long[last] else None

    def take_passage_starts(self) -> list[int]:
        starts, self.new_passage_starts = self.new_passage_starts, []
        return starts

    def _mark_long(self, index: int) -> None:
        earlier_long = any(self._long[:index])
        self._long[index] = True
        if index == 0:
            return
        if earlier_long:  # a new passage starts here: the previous one is complete
            if self._group is not None:
                self._contexts[self._group].close()
            self._group = self.starts[index]
            self.new_passage_starts.append(self._group)
        else:  # the first long candidate: the short ones before it merge forward into passage 0
            self._contexts[self.starts[index]].drop()

    # --- results ----------------------------------------------------------------------------
    def results(self, passages: list[tuple[int, int]], *, silent: bool) -> list[FingerprintResult]:
        """One result per final passage (native sample ranges); frees every context."""
        out = []
        for start, end in passages:
            out.append(self._result(start, end, silent=silent))
        for context in self._contexts.values():
            context.drop()
        self._contexts.clear()
        self._chunks.clear()
        return out

    def _result(self, start: int, end: int, *, silent: bool) -> FingerprintResult:
        length = min(self._fp_index(end) - self._fp_index(start), FINGERPRINT_SECONDS * SAMPLE_RATE)
        duration = length / SAMPLE_RATE
        if silent:
            return FingerprintResult(None, (), duration, "the passage is silent")
        context = self._contexts.get(start)
        if context is None:
            return FingerprintResult(None, (), duration, "no fingerprint context for this passage start")
        if context.problem:
            return FingerprintResult(None, (), duration, context.problem)
        try:
            context.close()
        except ChromaprintError as exc:
            return FingerprintResult(None, (), duration, str(exc))
        if context.raw is None:
            return FingerprintResult(None, (), duration, "no fingerprint context for this passage start")
        fed = context.next - context.start
        length = min(length, fed)
        raw = context.raw[: items_for_samples(length)]
        if len(raw) == 0:
            return FingerprintResult(None, (), length / SAMPLE_RATE, "the passage is too short to fingerprint")
        return FingerprintResult(encode(raw), tuple(int(v) for v in raw), length / SAMPLE_RATE)
