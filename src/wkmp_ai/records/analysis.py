"""The results of analysing a file: small, frozen, picklable records (no PCM), and their JSON form.

:class:`FileAnalysis` is what a process-pool worker hands back to the import session, and what
``wkmp-ai analyze --json`` prints, one line per file.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass, field
from typing import Any

from wkmp_ai.errors import ErrorCode
from wkmp_ai.records.trackindex import TrackIndex
from wkmp_ai.ticks import seconds_to_ticks

__all__ = ["AmplitudeAnalysis", "AnalysisWarning", "FileAnalysis", "PassageAnalysis", "Peaks", "lead_ticks"]


@dataclass(frozen=True)
class AnalysisWarning:
    code: ErrorCode
    message: str
    passage_index: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": self.message, "passage_index": self.passage_index}


def lead_ticks(
    start_ticks: int, end_ticks: int, lead_in_s: float | None, lead_out_s: float | None
) -> tuple[int | None, int | None]:
    """Lead-in and lead-out points in ticks (docs/design.md, *Passages*), kept inside the passages CHECKs.

    ``lead_in_start = start + lead_in``, ``lead_out_start = end − lead_out``, both through the one
    seconds→ticks helper; clamped so that start ≤ lead-in ≤ lead-out ≤ end always holds.
    """
    lead_in = None if lead_in_s is None else min(start_ticks + seconds_to_ticks(lead_in_s), end_ticks)
    lead_out = None if lead_out_s is None else max(end_ticks - seconds_to_ticks(lead_out_s), start_ticks)
    if lead_in is not None and lead_out is not None and lead_out < lead_in:
        lead_out = lead_in
    return lead_in, lead_out


@dataclass(frozen=True)
class PassageAnalysis:
    start_s: float
    end_s: float
    start_ticks: int
    end_ticks: int
    lead_in_s: float | None  # None: too quiet to analyse; the point stays NULL (docs/audio.md, *Lead-in and lead-out*)
    lead_out_s: float | None
    lead_in_start_ticks: int | None
    lead_out_start_ticks: int | None
    peak_rms: float
    quick_ramp_up: bool
    quick_ramp_down: bool
    fingerprint: str | None
    fingerprint_raw: tuple[int, ...]
    fingerprint_duration_s: float
    flavor: dict[str, Any] | None
    import_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_json(self) -> dict[str, Any]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "start_ticks": self.start_ticks,
            "end_ticks": self.end_ticks,
            "lead_in_s": self.lead_in_s,
            "lead_out_s": self.lead_out_s,
            "lead_in_start_ticks": self.lead_in_start_ticks,
            "lead_out_start_ticks": self.lead_out_start_ticks,
            "peak_rms": self.peak_rms,
            "quick_ramp_up": self.quick_ramp_up,
            "quick_ramp_down": self.quick_ramp_down,
            "fingerprint": self.fingerprint,
            "fingerprint_duration_s": self.fingerprint_duration_s,
            "flavor": self.flavor,
        }


@dataclass(frozen=True)
class Peaks:
    """Waveform peaks of a file (made by :mod:`wkmp_ai.audio.peaks`): int16 little-endian (min, max)
    pairs scaled by 32767, one per ``samples_per_peak`` samples. Plain Python here, so that the
    process that writes and serves them never loads NumPy."""

    sample_rate: int
    samples_per_peak: int
    total_samples: int
    data: bytes

    @property
    def count(self) -> int:
        return len(self.data) // 4

    @property
    def duration_s(self) -> float:
        return self.total_samples / self.sample_rate if self.sample_rate else 0.0

    def minmax(self, digits: int = 4) -> tuple[list[float], list[float]]:
        """The lows and the highs, in -1..1."""
        values = array("h")
        values.frombytes(self.data)
        if sys.byteorder == "big":
            values.byteswap()
        return (
            [round(v / 32767, digits) for v in values[0::2]],
            [round(v / 32767, digits) for v in values[1::2]],
        )


@dataclass(frozen=True)
class FileAnalysis:
    path: str
    format: str
    codec: str
    sample_rate: int
    channels: int
    duration_s: float
    passages: tuple[PassageAnalysis, ...]
    warnings: tuple[AnalysisWarning, ...]
    track_index: TrackIndex | None = None  # the rip's index the passages follow (docs/cue.md); None: silences
    peaks: Peaks | None = None  # waveform peaks, when asked for (the import keeps them for the editor)

    def to_json(self) -> dict[str, Any]:
        return {
            "boundary_source": self.track_index.source if self.track_index else "silence",
            "path": self.path,
            "format": self.format,
            "codec": self.codec,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "duration_s": self.duration_s,
            "passages": [p.to_json() for p in self.passages],
            "warnings": [w.to_json() for w in self.warnings],
        }


@dataclass(frozen=True)
class AmplitudeAnalysis:
    """``POST /analyze/amplitude``: one time range of one file (seconds in, seconds out)."""

    file_path: str
    start_s: float
    end_s: float
    peak_rms: float
    lead_in_s: float | None
    lead_out_s: float | None
    quick_ramp_up: bool
    quick_ramp_down: bool
    rms_profile: tuple[float, ...]
    rms_profile_interval_s: float
    warnings: tuple[AnalysisWarning, ...]
    analyzed_at: str
