"""Session events: a closed, typed set, and the bounded log every view reads from.

An import session publishes facts (state changed, progress, an error, completed). The SSE stream,
the status endpoint, the CLI progress bar and the logs are all views of this one log. Each event
gets a per-session id (1, 2, 3 …) so an SSE client that reconnects with ``Last-Event-ID`` is sent
exactly what it missed, if the bounded buffer still holds it.

Publishing is O(1): append to a deque and wake waiters. A subscriber keeps its own cursor and reads
events after it, so a hundred slow SSE clients cost the import nothing; a client that falls
further behind than the buffer learns it (``lost``) and is sent a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = ["Event", "EventLog", "EventType", "utc_now_iso"]


class EventType(StrEnum):
    STATE_CHANGED = "state_changed"
    PROGRESS = "progress"
    ERROR = "error"
    COMPLETED = "completed"


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Event:
    id: int
    type: EventType
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type.value, **self.data}


@dataclass
class EventLog:
    """Bounded, append-only log of one session's events with async subscribers."""

    capacity: int = 2000
    _events: deque[Event] = field(default_factory=deque)
    _next_id: int = 1
    _closed: bool = False
    _changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, type: EventType, data: dict[str, Any]) -> Event:
        """Append an event (from the event loop's thread) and wake subscribers."""
        event = Event(self._next_id, type, {**data, "timestamp": data.get("timestamp") or utc_now_iso()})
        self._next_id += 1
        self._events.append(event)
        while len(self._events) > self.capacity:
            self._events.popleft()
        if type is EventType.COMPLETED:
            self._closed = True
        self._wake()
        return event

    def close(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        condition = self._condition()

        async def notify() -> None:
            async with condition:
                condition.notify_all()

        with contextlib.suppress(RuntimeError):  # no loop running: nobody can be waiting
            asyncio.get_running_loop().create_task(notify())

    def since(self, last_seen: int) -> tuple[list[Event], bool]:
        """Events with id > ``last_seen`` still buffered, and whether some were lost from the buffer."""
        events = [e for e in self._events if e.id > last_seen]
        oldest = self._events[0].id if self._events else self._next_id
        return events, last_seen + 1 < oldest

    def all(self) -> list[Event]:
        return list(self._events)

    async def follow(self, last_seen: int = 0, *, wait_s: float = 15.0) -> AsyncIterator[Event | None]:
        """Yield events after ``last_seen`` as they come; ``None`` after ``wait_s`` without one (keepalive).

        Ends after the log is closed and everything in it has been yielded.
        """
        cursor = last_seen
        condition = self._condition()
        while True:
            events, _lost = self.since(cursor)
            for event in events:
                cursor = event.id
                yield event
            if self._closed and not self.since(cursor)[0]:
                return
            async with condition:
                if self.last_id > cursor or self._closed:
                    continue
                try:
                    await asyncio.wait_for(condition.wait(), timeout=wait_s)
                except TimeoutError:
                    yield None
