"""Where an import is: its phase and the counts of each phase (docs/import.md, *Progress*).

An import goes through three phases, which overlap in time: the analysis starts with the first
folder the scan has written, and identification with the first folder analysed:

    scanning        files found, then new or changed ones read (hashed, tags, art) — ``read / to_read``
    analysis        files decoded and analysed in the workers — the session's ``current / total``
    identification  album groups identified through the web services — ``albums_done / albums_total``

``phase`` is the latest one that has started and still has work; ``overall_percentage`` weighs the
three so that a progress bar moves during the scan and cannot reach 100 % while albums are still
being identified. A folder whose files are not all analysed yet counts as one album to come.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Phase", "PhaseTracker"]

# Share of the overall bar each phase fills: analysis is most of the work on a first import.
WEIGHTS = {"scanning": 10.0, "analysis": 75.0, "identification": 15.0}


class Phase(StrEnum):
    SCANNING = "scanning"
    ANALYSIS = "analysis"
    IDENTIFICATION = "identification"
    FINISHED = "finished"


@dataclass
class PhaseTracker:
    phase: Phase = Phase.SCANNING
    scan_step: str = "discovering"  # discovering → reading → writing → done
    found: int = 0  # audio files found under the folder
    to_read: int = 0  # of those, new or changed: hashed and tags read
    read: int = 0
    albums_total: int = 0  # album groups handed to identification
    albums_done: int = 0
    folders_waiting: int = 0  # folders still being analysed: at least one album each, to come
    waiting_requests: Callable[[], dict[str, int]] | None = None  # per service, waiting for a rate-limit slot

    def scan_progress(self, step: str, done: int, total: int) -> None:
        """Fed from the scanner's progress callback (``discovered``: ``done`` files found, ``total`` to read)."""
        if step == "discovered":
            self.found, self.to_read, self.scan_step = done, total, "reading"
        elif step == "reading":
            self.read, self.to_read, self.scan_step = done, total, "reading"
        elif step == "writing":
            self.scan_step = "writing"
        elif step == "discovering":
            self.found, self.scan_step = done, "discovering"

    def scan_done(self, found: int) -> None:
        self.found, self.read, self.scan_step = found, self.to_read, "done"

    def view(
        self, *, done: int, total: int, files_per_second: float, eta: float | None, finished: bool
    ) -> dict[str, Any]:
        """The per-phase counts and the weighted overall percentage, for status and SSE."""
        albums_expected = self.albums_total + self.folders_waiting
        scanning = {
            "step": self.scan_step,
            "files_found": self.found,
            "files_to_read": self.to_read,
            "files_read": self.read,
        }
        analysis = {"done": done, "total": total, "files_per_second": files_per_second, "eta_seconds": eta}
        waiting = self.waiting_requests() if self.waiting_requests else {}
        identification = {
            "albums_done": self.albums_done,
            "albums_total": albums_expected,
            "requests_waiting": sum(waiting.values()),
            "waiting_by_service": waiting,
        }
        return {
            "phase": Phase.FINISHED.value if finished else self.phase.value,
            "phases": {"scanning": scanning, "analysis": analysis, "identification": identification},
            "overall_percentage": 100.0 if finished else self._overall(done, total, albums_expected),
        }

    def _overall(self, done: int, total: int, albums_expected: int) -> float:
        if self.scan_step in ("writing", "done"):
            scanned = 1.0
        else:
            scanned = 0.9 * self.read / self.to_read if self.to_read else 0.0
        if self.phase is Phase.SCANNING:
            return round(WEIGHTS["scanning"] * scanned, 1)
        # The analysis starts with the first folder the scan has written; the scan goes on meanwhile.
        analysed = done / total if total else 1.0
        identified = self.albums_done / albums_expected if albums_expected else (1.0 if analysed >= 1.0 else 0.0)
        value = WEIGHTS["scanning"] * scanned + WEIGHTS["analysis"] * analysed + WEIGHTS["identification"] * identified
        return round(min(value, 99.0), 1)  # 100 % only once the session has finished
