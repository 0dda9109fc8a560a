"""Gather single lookups from many tasks into batched requests.

AcoustID takes up to 20 fingerprints per request and AcousticBrainz up to 25 recordings. Every
album being identified asks for its own items; the :class:`Batcher` queues them and one runner
sends a batch whenever the service's rate limiter would allow a request, taking up to ``size``
queued items at that moment. While the runner waits for its slot, more items queue up, so the
batches fill themselves under load and nobody waits longer than the rate limit already demands.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from wkmp_ai.identify.ratelimit import RateLimiter

__all__ = ["Batcher"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[Sequence[K]], Awaitable[dict[K, V]]]


class Batcher(Generic[K, V]):
    def __init__(self, fetch: Fetch[K, V], *, size: int, limiter: RateLimiter, linger_s: float = 0.02):
        if size < 1:
            raise ValueError("batch size must be at least 1")
        self._fetch = fetch
        self._size = size
        self._limiter = limiter
        self._linger_s = linger_s
        self._queue: dict[K, asyncio.Future[V]] = {}
        self._inflight: dict[K, asyncio.Future[V]] = {}
        self._runner: asyncio.Task[None] | None = None
        self.batches_sent = 0

    async def get(self, key: K) -> V:
        """The value for ``key``; raises what the batch fetch raised. Missing keys raise KeyError."""
        fut = self._queue.get(key) or self._inflight.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._queue[key] = fut
            if self._runner is None or self._runner.done():
                self._runner = asyncio.create_task(self._run(), name="batcher")
        return await asyncio.shield(fut)

    async def get_many(self, keys: Sequence[K]) -> dict[K, V | BaseException]:
        """Values (or the exception of their batch) for every key, queued together."""
        unique = list(dict.fromkeys(keys))
        results = await asyncio.gather(*(self.get(k) for k in unique), return_exceptions=True)
        return dict(zip(unique, results, strict=True))

    async def aclose(self) -> None:
        if self._runner is not None and not self._runner.done():
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for fut in [*self._queue.values(), *self._inflight.values()]:
            if not fut.done():
                fut.cancel()

    async def _run(self) -> None:
        while self._queue:
            if self._linger_s > 0:
                await asyncio.sleep(self._linger_s)
            await self._limiter.wait_ready()
            keys = list(self._queue)[: self._size]
            batch = {k: self._queue.pop(k) for k in keys}
            self._inflight.update(batch)
            self.batches_sent += 1
            try:
                values = await self._fetch(keys)
            except asyncio.CancelledError:
                for fut in batch.values():
                    fut.cancel()
                raise
            except Exception as exc:
                for fut in batch.values():
                    if not fut.done():
                        fut.set_exception(exc)
                        fut.exception()  # mark retrieved: a caller may have been cancelled
            else:
                for k, fut in batch.items():
                    if fut.done():
                        continue
                    if k in values:
                        fut.set_result(values[k])
                    else:
                        fut.set_exception(KeyError(k))
                        fut.exception()
            finally:
                for k in keys:
                    self._inflight.pop(k, None)
