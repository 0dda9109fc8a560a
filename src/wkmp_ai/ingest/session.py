"""One import session: its state machine, counters, errors and the events it publishes.

States (docs/design.md, *Import sessions*): SCANNING → PROCESSING → COMPLETED, CANCELLED from any running state,
FAILED on a critical error (work already committed is kept). An empty folder goes straight from
SCANNING to COMPLETED. Sessions live in memory only (docs/design.md, *Import sessions*).

Every change goes through a method here that also publishes the matching event, so the status
endpoint, SSE, the CLI and the logs never disagree.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from wkmp_ai.errors import ErrorCode, Severity, WkmpError, error_label
from wkmp_ai.events import EventLog, EventType, utc_now_iso
from wkmp_ai.ingest.phases import PhaseTracker

__all__ = ["ErrorRecord", "ImportSession", "InvalidTransition", "State"]

log = logging.getLogger(__name__)
PROGRESS_WINDOW_S = 30.0  # files/s is measured over this trailing window


class State(StrEnum):
    SCANNING = "SCANNING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in {State.COMPLETED, State.CANCELLED, State.FAILED}


_ALLOWED = {
    State.SCANNING: {State.PROCESSING, State.COMPLETED, State.CANCELLED, State.FAILED},
    State.PROCESSING: {State.COMPLETED, State.CANCELLED, State.FAILED},
}


class InvalidTransition(WkmpError, RuntimeError):
    """A state change the session's state machine does not allow (a bug, not a file's fault)."""


@dataclass(frozen=True)
class ErrorRecord:
    file_path: str | None
    error_code: str
    error_message: str
    severity: str
    timestamp: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_path": self.file_path,
            "error_code": self.error_code,
            "error_label": error_label(self.error_code),
            "error_message": self.error_message,
            "severity": self.severity,
            "timestamp": self.timestamp,
        }


@dataclass
class ImportSession:
    root_folder: Path
    import_dir: Path
    parameters: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: State = State.SCANNING
    started_at: str = field(default_factory=utc_now_iso)
    finished_at: str | None = None
    total: int = 0
    succeeded: int = 0
    with_warnings: int = 0
    failed: int = 0
    unchanged: int = 0
    passages_created: int = 0
    identified: int = 0
    operation: str = "Scanning"
    current_files: dict[int, str] = field(default_factory=dict)
    errors: list[ErrorRecord] = field(default_factory=list)
    error_summary: Counter[str] = field(default_factory=Counter)
    fatal: ErrorRecord | None = None
    events: EventLog = field(default_factory=EventLog)
    phases: PhaseTracker = field(default_factory=PhaseTracker)
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event)
    _started: float = field(default_factory=time.monotonic)
    _ended: float | None = None
    _done_times: deque[float] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.events.publish(
            EventType.STATE_CHANGED, {"session_id": self.id, "old_state": None, "new_state": self.state.value}
        )

    # ---- state -------------------------------------------------------------------------------
    @property
    def current(self) -> int:
        return self.succeeded + self.failed

    def transition(self, new: State) -> None:
        if new not in _ALLOWED.get(self.state, set()):
            raise InvalidTransition(f"{self.state} → {new}")
        old, self.state = self.state, new
        log.info("import %s: %s → %s", self.id, old, new)
        self.events.publish(
            EventType.STATE_CHANGED, {"session_id": self.id, "old_state": old.value, "new_state": new.value}
        )
        if new.finished:
            self.finished_at = utc_now_iso()
            self._ended = time.monotonic()
            self.current_files.clear()
            self.operation = new.value.capitalize()
            self.events.publish(EventType.COMPLETED, {"session_id": self.id, **self.summary()})

    def request_cancel(self) -> None:
        self.cancel_requested.set()

    # ---- counters ----------------------------------------------------------------------------
    def file_started(self, slot: int, rel_path: str) -> None:
        self.current_files[slot] = rel_path
        self.operation = f"Processing: {rel_path}"

    def file_analysed(self, slot: int, rel_path: str) -> None:
        """``rel_path``'s worker is done with it; the worker may have taken its next file already."""
        if self.current_files.get(slot) == rel_path:
            del self.current_files[slot]

    def file_finished(self, *, ok: bool, warned: bool = False, passages: int = 0) -> None:
        if ok:
            self.succeeded += 1
            self.with_warnings += int(warned)
            self.passages_created += passages
        else:
            self.failed += 1
        now = time.monotonic()
        self._done_times.append(now)
        while self._done_times and now - self._done_times[0] > PROGRESS_WINDOW_S:
            self._done_times.popleft()

    def record_error(self, code: ErrorCode, message: str, *, path: str | None = None) -> ErrorRecord:
        record = ErrorRecord(path, code.value, message, code.severity.value, utc_now_iso())
        self.errors.append(record)
        self.error_summary[code.value] += 1
        if code.severity is Severity.CRITICAL and self.fatal is None:
            self.fatal = record
        log.log(  # as people read it elsewhere: the label in plain words, the code beside it
            logging.WARNING if code.severity is Severity.WARNING else logging.ERROR,
            "%s (%s): %s%s",
            code.label,
            code.value,
            f"{path}: " if path else "",
            message,
        )
        self.events.publish(EventType.ERROR, {"session_id": self.id, **record.as_dict()})
        return record

    # ---- views -------------------------------------------------------------------------------
    @property
    def elapsed_seconds(self) -> float:
        return (self._ended or time.monotonic()) - self._started

    def files_per_second(self) -> float:
        if self.current == 0:
            return 0.0
        window = list(self._done_times)
        span = (self._ended or time.monotonic()) - self._started
        if len(window) >= 2 and span > PROGRESS_WINDOW_S:
            return (len(window) - 1) / max(window[-1] - window[0], 1e-9)
        return self.current / max(span, 1e-9)

    def estimated_remaining_seconds(self) -> float | None:
        if self.state.finished:
            return 0.0
        rate = self.files_per_second()
        remaining = self.total - self.current
        return None if rate <= 0 else round(remaining / rate, 1)

    def progress(self) -> dict[str, Any]:
        total = self.total
        return {
            "current": self.current,
            "total": total,
            "percentage": round(100.0 * self.current / total, 1) if total else (100.0 if self.state.finished else 0.0),
            "files_per_second": round(self.files_per_second(), 3),
            "estimated_remaining_seconds": self.estimated_remaining_seconds(),
            "succeeded": self.succeeded,
            "with_warnings": self.with_warnings,
            "failed": self.failed,
            "unchanged": self.unchanged,
            "current_files": [self.current_files[k] for k in sorted(self.current_files)],
            **self.phases.view(
                done=self.current,
                total=total,
                files_per_second=round(self.files_per_second(), 3),
                eta=self.estimated_remaining_seconds(),
                finished=self.state.finished,
            ),
        }

    def publish_progress(self) -> None:
        p = self.progress()
        self.events.publish(
            EventType.PROGRESS, {"session_id": self.id, "operation": self.operation, "state": self.state.value, **p}
        )

    def summary(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "files_total": self.total,
            "files_processed": self.succeeded,
            "files_with_warnings": self.with_warnings,
            "files_failed": self.failed,
            "files_unchanged": self.unchanged,
            "files_skipped": self.total - self.current,
            "files_identified": self.identified,
            "passages_created": self.passages_created,
            "duration_seconds": round(self.elapsed_seconds, 3),
            "error_summary": dict(sorted(self.error_summary.items())),
        }

    def status(self) -> dict[str, Any]:
        progress = self.progress()
        body: dict[str, Any] = {
            "session_id": self.id,
            "state": self.state.value,
            "root_folder": str(self.import_dir),
            "progress": {k: progress[k] for k in ("current", "total", "percentage")},
            "current_operation": self.operation,
            "current_files": progress["current_files"],
            "files_per_second": progress["files_per_second"],
            "counts": {k: progress[k] for k in ("succeeded", "with_warnings", "failed")}
            | {"unchanged": self.unchanged},
            "errors": [e.as_dict() for e in self.errors],
            "started_at": self.started_at,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "estimated_remaining_seconds": progress["estimated_remaining_seconds"],
            "phase": progress["phase"],
            "phases": progress["phases"],
            "overall_percentage": progress["overall_percentage"],
            "last_event_id": self.events.last_id,
        }
        if self.state.finished:
            body.update(self.summary())
            body["finished_at"] = self.finished_at
        if self.fatal is not None:
            body["error"] = {
                "code": self.fatal.error_code,
                "message": self.fatal.error_message,
                "file_path": self.fatal.file_path,
            }
        return body
