"""One rate limiter per web service, shared by every task that talks to it.

MusicBrainz answers 503 to a client that sends more than one request a second; AcoustID allows
three. The limiter spaces requests at least ``1/rate`` seconds apart (no bursts), in arrival
order, whatever the number of workers. Spacing is measured from the moment a request's headers
actually leave: :meth:`RateLimiter.slot` holds the next caller back until the current one calls
``sent()`` (a new TLS connection can delay a request by a good part of a second, and the next
request, on another connection, must not overtake it). A server's ``Retry-After`` pushes the next slot
back for everyone (:meth:`RateLimiter.defer`). The clock and sleep are injectable so unit tests
never wait.

``margin_s`` adds a little to every interval. A server counts *arrivals*: requests that leave
exactly one interval apart reach it closer together half the time, by the difference of their
network delays, and a server that allows one request in any 1-second window refuses one of them
(docs/identify.md, *HTTP, rate limits, faults*).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

__all__ = ["RateLimiter"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    def __init__(
        self, rate: float, *, margin_s: float = 0.0, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ):
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError(f"rate must be a positive number of requests per second, got {rate!r}")
        if not margin_s >= 0 or not math.isfinite(margin_s):
            raise ValueError(f"margin must be zero or a positive number of seconds, got {margin_s!r}")
        self.rate = rate
        self.interval = 1.0 / rate + margin_s
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf  # earliest start of the next request
        self._lock: asyncio.Lock | None = None
        self.waiting = 0  # callers waiting for a slot now (shown in the import's progress)

    def _get_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def acquire(self) -> None:
        """Wait for this caller's slot; the request may start as soon as this returns."""
        self.waiting += 1
        try:
            async with self._get_lock():
                await self._wait_for_slot()
                self._next = self._clock() + self.interval
        finally:
            self.waiting -= 1

    async def wait_ready(self) -> None:
        """Wait until a request could start now, without taking the slot (used by batchers)."""
        async with self._get_lock():
            await self._wait_for_slot()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Callable[[], None]]:
        """Wait for the slot and yield ``sent``: call it when the request leaves. Nobody else
        starts before that call (or the end of the block), and the next slot is a full interval
        after it."""
        lock = self._get_lock()
        self.waiting += 1
        try:
            await lock.acquire()
        except BaseException:
            self.waiting -= 1
            raise
        held = True

        def sent() -> None:
            nonlocal held
            self._next = max(self._next, self._clock() + self.interval)
            if held:
                held = False
                lock.release()

        try:
            try:
                await self._wait_for_slot()
            finally:
                self.waiting -= 1
            self._next = self._clock() + self.interval
            yield sent
        finally:
            if held:
                held = False
                lock.release()

    def defer(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` from now (the server asked us to slow down)."""
        self._next = max(self._next, self._clock() + max(0.0, seconds))

    async def _wait_for_slot(self) -> None:
        # Loop: an event loop may wake a sleeper up to one clock tick early.
        while (wait := self._next - self._clock()) > 0:
            await self._sleep(wait)
