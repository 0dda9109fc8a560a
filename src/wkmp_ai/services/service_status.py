"""Whether the web services an import uses can be reached (``GET /services/status``).

Each service's root URL is asked with a short timeout (any HTTP answer counts as reachable: the
service's own API may want a key or a path); the answers are kept for a minute. The probe uses its
own client, never the import's rate limiters, so it cannot slow an import down; a status request
waits at most a moment for a probe and otherwise answers with what is known (``reachable: null``
until the first probe ends). The AcoustID key is reported only as set or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx

from wkmp_ai.config import Settings
from wkmp_ai.events import utc_now_iso

__all__ = ["SERVICES", "ServiceStatus"]

SERVICES = ("acoustid", "musicbrainz", "acousticbrainz", "coverart")
PROBE_TIMEOUT_S = 2.0
CACHE_S = 60.0


class ServiceStatus:
    def __init__(self, settings: Settings, *, cache_s: float = CACHE_S, timeout_s: float = PROBE_TIMEOUT_S):
        self.settings = settings
        self.cache_s = cache_s
        self.timeout_s = timeout_s
        self._results: dict[str, tuple[bool, str]] = {}
        self._checked_monotonic: float | None = None
        self._probe: asyncio.Task[None] | None = None

    def _url(self, name: str) -> str:
        return str(getattr(self.settings, f"{name}_url"))

    async def status(self, *, wait_s: float = PROBE_TIMEOUT_S + 0.5) -> dict[str, Any]:
        stale = self._checked_monotonic is None or time.monotonic() - self._checked_monotonic > self.cache_s
        if stale and (self._probe is None or self._probe.done()):
            self._probe = asyncio.create_task(self._probe_all())
        if self._probe is not None and not self._probe.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._probe), wait_s)
        return self.view()

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in SERVICES:
            reachable, checked_at = self._results.get(name, (None, None))
            out[name] = {
                "url": self._url(name),
                "reachable": reachable,
                "checked_at": checked_at,
                "rate_per_s": float(getattr(self.settings, f"{name}_rate")),
            }
        out["acoustid"]["api_key_set"] = bool(self.settings.acoustid_api_key)
        return out

    async def _probe_all(self) -> None:
        headers = {"User-Agent": self.settings.user_agent}
        async with httpx.AsyncClient(timeout=self.timeout_s, headers=headers, follow_redirects=False) as client:
            answers = await asyncio.gather(*(self._probe_one(client, name) for name in SERVICES))
        now = utc_now_iso()
        self._results = {name: (ok, now) for name, ok in zip(SERVICES, answers, strict=True)}
        self._checked_monotonic = time.monotonic()

    async def _probe_one(self, client: httpx.AsyncClient, name: str) -> bool:
        try:
            response = await client.head(self._url(name) + "/")
        except (httpx.HTTPError, OSError):
            return False
        await response.aclose()
        return True
