"""The :class:`Identifier`: four service clients, their limiters, the caches, and the album run.

Build one per import session and share it between every album being identified::

    async with Identifier(settings, CacheReads(db)) as ident:
        result = await ident.identify_album(group)      # pure result, never raises for a network fault
    await writer.write(write_identification, result)    # the import's one writer (wkmp_ai.ingest)

Each service gets one pooled HTTP client and one rate limiter, whatever the number of albums in
flight. The limiters may outlive an Identifier: a service that runs several imports (or an import
and ``identify_pending``) one after another or side by side builds them once with
:func:`make_limiters` and passes them to each, so the pace holds across sessions.

Every lookup checks the caches first; concurrent asks for the same entity share one request.
A service that keeps failing is marked unavailable for the session: one
``SERVICE_UNAVAILABLE`` warning, and the files that needed it stay pending for a later run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from wkmp_ai.config import Settings
from wkmp_ai.errors import ErrorCode
from wkmp_ai.identify.acousticbrainz import AcousticBrainzClient
from wkmp_ai.identify.acoustid import AcoustIDClient, LookupItem, lookup_key
from wkmp_ai.identify.album import AlbumRun
from wkmp_ai.identify.bydisc import trim_disc_answer
from wkmp_ai.identify.cache import MISS, CacheReader, IdentifyCache
from wkmp_ai.identify.coverart import CaaImage, CoverArtClient
from wkmp_ai.identify.evidence import AcoustIDCandidate, ReleaseDoc
from wkmp_ai.identify.http import NotFound, ServiceClient, ServiceError, ServiceUnavailable
from wkmp_ai.identify.lookups import IdentifyOptions
from wkmp_ai.identify.mbsearch import trim_search
from wkmp_ai.identify.musicbrainz import (
    MusicBrainzClient,
    parse_release,
    recordings_of_release,
    trim_recording,
    trim_release,
)
from wkmp_ai.identify.ratelimit import Clock, RateLimiter, Sleep
from wkmp_ai.records.identify import AlbumGroup, AlbumIdentification, CacheWrites, IdentifyWarning

__all__ = ["MARGIN_S", "SERVICES", "Identifier"]

T = TypeVar("T")

SERVICES = ("acoustid", "musicbrainz", "acousticbrainz", "coverart")
_LABEL = {
    "acoustid": "AcoustID",
    "musicbrainz": "MusicBrainz",
    "acousticbrainz": "AcousticBrainz",
    "coverart": "Cover Art Archive",
}


# Added to the interval of services that count arrivals in a sliding window: more than the
# usual difference between two requests' network delays (docs/identify.md, HTTP and rate limits).
MARGIN_S = {"acoustid": 0.05, "musicbrainz": 0.1}


def make_limiters(
    settings: Settings, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
) -> dict[str, RateLimiter]:
    """One limiter per service at the configured rates, to share between sessions."""
    return {
        "acoustid": RateLimiter(settings.acoustid_rate, margin_s=MARGIN_S["acoustid"], clock=clock, sleep=sleep),
        "musicbrainz": RateLimiter(
            settings.musicbrainz_rate, margin_s=MARGIN_S["musicbrainz"], clock=clock, sleep=sleep
        ),
        "acousticbrainz": RateLimiter(settings.acousticbrainz_rate, clock=clock, sleep=sleep),
        "coverart": RateLimiter(settings.coverart_rate, clock=clock, sleep=sleep),
    }


class Identifier:
    def __init__(
        self,
        settings: Settings,
        stored: CacheReader | None,
        options: IdentifyOptions | None = None,
        *,
        limiters: Mapping[str, RateLimiter] | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ):
        self.settings = settings
        self.options = options or IdentifyOptions()
        self.cache = IdentifyCache(stored, self.options.ttl)
        rng = rng or random.Random()
        key = settings.acoustid_api_key or None
        shared = limiters if limiters is not None else make_limiters(settings, clock=clock, sleep=sleep)

        def client(name: str, url: str, rate: float, *, redirects: bool = False) -> ServiceClient:
            return ServiceClient(
                name,
                url,
                rate=rate,
                user_agent=settings.user_agent,
                timeout_s=self.options.timeout_s,
                retry=self.options.retry,
                breaker_threshold=self.options.breaker_threshold,
                clock=clock,
                sleep=sleep,
                rng=rng,
                secret=key,
                follow_redirects=redirects,
                limiter=shared[name],
            )

        self.http = {
            "acoustid": client("acoustid", settings.acoustid_url, settings.acoustid_rate),
            "musicbrainz": client("musicbrainz", settings.musicbrainz_url, settings.musicbrainz_rate),
            "acousticbrainz": client("acousticbrainz", settings.acousticbrainz_url, settings.acousticbrainz_rate),
            "coverart": client("coverart", settings.coverart_url, settings.coverart_rate, redirects=True),
        }
        linger = self.options.batch_linger_s
        self.acoustid = (
            AcoustIDClient(
                self.http["acoustid"],
                key,
                batch_size=self.options.acoustid_batch_size,
                linger_s=linger,
                min_score=self.options.min_score,
            )
            if key
            else None
        )
        self.musicbrainz = MusicBrainzClient(self.http["musicbrainz"])
        self.acousticbrainz = AcousticBrainzClient(self.http["acousticbrainz"], linger_s=linger)
        self.coverart = CoverArtClient(self.http["coverart"])
        self._inflight: dict[tuple[str, str], asyncio.Future[Any]] = {}
        self._announced: set[str] = set()

    async def __aenter__(self) -> Identifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self.acoustid is not None:
            await self.acoustid.aclose()
        await self.acousticbrainz.aclose()
        for http in self.http.values():
            await http.aclose()

    # --- the work ---------------------------------------------------------------------------

    async def identify_album(self, group: AlbumGroup) -> AlbumIdentification:
        """Identify one album group; network faults end as warnings and pending passages."""
        return await AlbumRun(self, group).run()

    def drain_cache(self) -> CacheWrites:
        """Answers fetched but not yet handed out with a result (write them with ``write_cache``)."""
        return self.cache.drain()

    def stats(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name, http in self.http.items():
            entry = http.stats.as_dict()
            entry["cache_hits"] = self.cache.hits[name]
            entry["available"] = http.available
            out[name] = entry
        return out

    @property
    def has_acoustid_key(self) -> bool:
        return self.acoustid is not None

    @property
    def root_folder(self) -> Path:
        return self.settings.root_folder

    def available(self, service: str) -> bool:
        return self.http[service].available

    # --- warnings ---------------------------------------------------------------------------

    def announce(self, code: ErrorCode, message: str, *, once: str) -> IdentifyWarning | None:
        """A session-wide warning, the first time only."""
        if once in self._announced:
            return None
        self._announced.add(once)
        return IdentifyWarning(code, message, None)

    def failure_warning(
        self, service: str, exc: ServiceError, path: str | None, *, files: int = 1
    ) -> IdentifyWarning | None:
        """The warning for a failed operation while the service is up (``files`` it left waiting), and
        once for the session when the service is given up."""
        label = _LABEL[service]
        if isinstance(exc, ServiceUnavailable) or not self.http[service].available:
            reason = self.http[service].unavailable_reason or exc.detail
            return self.announce(
                ErrorCode.SERVICE_UNAVAILABLE,
                f"{label} is unavailable for the rest of this import ({reason}); "
                "files that need it stay pending and are identified by a later import",
                once=f"unavailable:{service}",
            )
        waiting = ""
        if files > 1:
            waiting = (
                f"; {files} files of this album keep their local flavor until a later import"
                if service == "acousticbrainz"
                else f"; {files} files of this album wait for a later import"
            )
        return IdentifyWarning(exc.code, f"{label}: {exc.detail}{waiting}", path)

    # --- cached, shared lookups -------------------------------------------------------------

    async def _once(self, kind: str, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        """Concurrent asks for the same thing share one request."""
        fut = self._inflight.get((kind, key))
        if fut is not None:
            return await asyncio.shield(fut)
        fut = asyncio.get_running_loop().create_future()
        self._inflight[(kind, key)] = fut
        try:
            value = await fetch()
        except Exception as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: nobody else may be waiting
            raise
        except BaseException:
            fut.cancel()
            raise
        else:
            fut.set_result(value)
            return value
        finally:
            del self._inflight[(kind, key)]

    async def acoustid_lookup(
        self, items: Sequence[LookupItem]
    ) -> dict[LookupItem, tuple[AcoustIDCandidate, ...] | BaseException]:
        assert self.acoustid is not None
        out: dict[LookupItem, tuple[AcoustIDCandidate, ...] | BaseException] = {}
        missing = []
        for item in items:
            cached = await self.cache.acoustid(lookup_key(*item))
            if cached is None:
                missing.append(item)
            else:
                out[item] = cached
        if missing:
            answers = await self.acoustid.lookup_many(missing)
            for item, answer in answers.items():
                if not isinstance(answer, BaseException):
                    self.cache.put_acoustid(lookup_key(*item), answer)
                out[item] = answer
        return out

    async def release(self, mbid: str) -> ReleaseDoc | None:
        """The whole release (cache, else one request, plus a browse if the lookup was cut short)."""
        cached = await self.cache.musicbrainz(mbid, "release")
        if cached is MISS:
            return None
        if isinstance(cached, dict):
            return parse_release(cached, cached.get("wkmp-browsed") or ())

        async def fetch() -> ReleaseDoc | None:
            try:
                doc = trim_release(await self.musicbrainz.release(mbid))
            except NotFound:
                self.cache.put_miss("musicbrainz", mbid, "release not found")
                return None
            parsed = parse_release(doc)
            if not parsed.complete:
                browsed = [trim_recording(r) for r in await self.musicbrainz.browse_release_recordings(mbid)]
                doc["wkmp-browsed"] = browsed
                parsed = parse_release(doc, browsed)
            await self.cache.put_musicbrainz(mbid, "release", doc)
            for rec in recordings_of_release(doc):
                await self.cache.put_musicbrainz(rec["id"], "recording", rec, overwrite=False)
                for rel in rec.get("relations") or ():
                    work = rel.get("work") or {}
                    if rel.get("type") == "performance" and work.get("id"):
                        await self.cache.put_musicbrainz(work["id"], "work", work, overwrite=False)
            return parsed

        return await self._once("release", mbid, fetch)

    async def recording(self, mbid: str) -> dict[str, Any] | None:
        cached = await self.cache.musicbrainz(mbid, "recording")
        if cached is MISS:
            return None
        if isinstance(cached, dict):
            return cached

        async def fetch() -> dict[str, Any] | None:
            try:
                doc = trim_recording(await self.musicbrainz.recording(mbid))
            except NotFound:
                self.cache.put_miss("musicbrainz", mbid, "recording not found")
                return None
            await self.cache.put_musicbrainz(mbid, "recording", doc)
            return doc

        return await self._once("recording", mbid, fetch)

    async def search(self, entity: str, query: str, limit: int) -> list[dict[str, Any]]:
        """Trimmed results of a MusicBrainz search (cache, else one request); [] when none."""
        key = f"{entity}:{limit}:{query}"
        cached = await self.cache.search(key)
        if cached is not None:
            return cached

        async def fetch() -> list[dict[str, Any]]:
            results = trim_search(entity, await self.musicbrainz.search(entity, query, limit))
            self.cache.put_search(key, results)
            return results

        return await self._once("search", key, fetch)

    async def disc_releases(self, disc_id: str, toc: str) -> list[dict[str, Any]]:
        """The (trimmed) releases MusicBrainz gives for this Disc ID and table of contents; [] when it
        knows none. Cached as a search (docs/cue.md)."""
        key = f"discid:{disc_id}:{toc}"
        cached = await self.cache.search(key)
        if cached is not None:
            return cached

        async def fetch() -> list[dict[str, Any]]:
            try:
                answer = await self.musicbrainz.discid(disc_id, toc)
            except NotFound:
                answer = {}
            releases = trim_disc_answer(answer, disc_id)
            self.cache.put_search(key, releases)
            return releases

        return await self._once("discid", key, fetch)

    async def high_level(self, mbids: Sequence[str]) -> dict[str, dict[str, Any] | BaseException | None]:
        out: dict[str, dict[str, Any] | BaseException | None] = {}
        missing = []
        for mbid in dict.fromkeys(mbids):
            cached = await self.cache.acousticbrainz(mbid)
            if cached is MISS:
                out[mbid] = None
            elif isinstance(cached, dict):
                out[mbid] = cached
            else:
                missing.append(mbid)
        if missing:
            for mbid, answer in (await self.acousticbrainz.high_level_many(missing)).items():
                if not isinstance(answer, BaseException):
                    self.cache.put_acousticbrainz(mbid, answer)
                out[mbid] = answer
        return out

    async def cached_releases(self, mbids: Collection[str]) -> set[str]:
        return await self.cache.cached_musicbrainz(mbids, "release")

    async def cover_image(self, image: CaaImage) -> bytes:
        return await self.coverart.download(image)

    async def cover_listing(self, release_mbid: str) -> list[CaaImage]:
        cached = await self.cache.coverart(release_mbid)
        if cached is MISS:
            return []
        if isinstance(cached, list):
            return cached

        async def fetch() -> list[CaaImage]:
            try:
                images = await self.coverart.listing(release_mbid)
            except NotFound:
                self.cache.put_miss("coverart", release_mbid, "no cover art")
                return []
            self.cache.put_coverart(release_mbid, images)
            return images

        return await self._once("coverart", release_mbid, fetch)
