"""The identification caches, checked before any request (docs/identify.md, *Caches*).

Lookups look first at the answers fetched in this session that are not yet written (``pending``,
handed to the writer with each result — see :meth:`IdentifyCache.drain`), then at the stored
caches through an injected :class:`CacheReader` (the import passes
:class:`wkmp_ai.db.cachereads.CacheReads`, which reads ``wkmp.db`` off the event loop).
Negative answers are cached too, with an age limit where the service can learn new things:

- AcoustID no-match: ``nomatch_ttl_s`` (default 30 days: AcoustID grows every day),
- MusicBrainz 404 and Cover Art Archive 404: ``miss_ttl_s`` (default 30 days),
- AcousticBrainz 404: forever (the service has been read-only since 2022),
- MusicBrainz searches: ``search_s`` (180 days) for an answer, ``search_empty_s`` (30 days) for
  a search that found nothing (the database grows; a re-import within that time sends nothing).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from wkmp_ai.identify.acoustid import candidates_from_json, candidates_to_json
from wkmp_ai.identify.coverart import CaaImage, listing_from_json, listing_to_json
from wkmp_ai.identify.evidence import AcoustIDCandidate
from wkmp_ai.records.identify import CacheWrites

__all__ = ["MISS", "CacheReader", "CacheTTL", "IdentifyCache"]


class _Miss:
    def __repr__(self) -> str:
        return "MISS"


MISS: Final = _Miss()  # "the service said: there is no such thing"

DAY = 86_400.0


@dataclass(frozen=True)
class CacheTTL:
    acoustid_nomatch_s: float | None = 30 * DAY
    miss_s: float | None = 30 * DAY
    search_s: float | None = 180 * DAY
    search_empty_s: float | None = 30 * DAY


class CacheReader(Protocol):
    """The stored caches, read without blocking the event loop. Texts are the stored JSON."""

    async def acoustid(self, key: str, *, nomatch_max_age_s: float | None) -> str | None: ...
    async def musicbrainz(self, mbid: str) -> tuple[str, str] | None: ...  # (entity type, JSON)
    async def cached_musicbrainz(self, mbids: Collection[str], entity_type: str) -> set[str]: ...
    async def acousticbrainz(self, recording_mbid: str) -> str | None: ...
    async def coverart(self, release_mbid: str) -> str | None: ...
    async def miss(self, service: str, key: str, *, max_age_s: float | None) -> bool: ...
    async def search(self, key: str, *, max_age_s: float | None, empty_max_age_s: float | None) -> str | None: ...


class _NothingStored:
    """The reader of an identification that keeps nothing between runs (benchmarks, one-off checks)."""

    async def acoustid(self, key: str, *, nomatch_max_age_s: float | None) -> str | None:
        return None

    async def musicbrainz(self, mbid: str) -> tuple[str, str] | None:
        return None

    async def cached_musicbrainz(self, mbids: Collection[str], entity_type: str) -> set[str]:
        return set()

    async def acousticbrainz(self, recording_mbid: str) -> str | None:
        return None

    async def coverart(self, release_mbid: str) -> str | None:
        return None

    async def miss(self, service: str, key: str, *, max_age_s: float | None) -> bool:
        return False

    async def search(self, key: str, *, max_age_s: float | None, empty_max_age_s: float | None) -> str | None:
        return None


class IdentifyCache:
    def __init__(self, reader: CacheReader | None, ttl: CacheTTL | None = None):
        self._reader: CacheReader = reader or _NothingStored()
        self.ttl = ttl or CacheTTL()
        self.pending = CacheWrites()
        self.hits: Counter[str] = Counter()

    def drain(self) -> CacheWrites:
        """Hand over everything fetched since the last drain (for ``write_identification``)."""
        out, self.pending = self.pending, CacheWrites()
        return out

    def _hit(self, service: str, value: Any) -> Any:
        if value is not None:
            self.hits[service] += 1
        return value

    # --- AcoustID ---------------------------------------------------------------------------

    async def acoustid(self, key: str) -> tuple[AcoustIDCandidate, ...] | None:
        text = self.pending.acoustid.get(key)
        if text is None:
            text = await self._reader.acoustid(key, nomatch_max_age_s=self.ttl.acoustid_nomatch_s)
        return self._hit("acoustid", None if text is None else candidates_from_json(text))

    def put_acoustid(self, key: str, candidates: tuple[AcoustIDCandidate, ...]) -> None:
        self.pending.acoustid[key] = candidates_to_json(candidates)

    # --- MusicBrainz ------------------------------------------------------------------------

    async def musicbrainz(self, mbid: str, entity_type: str) -> dict[str, Any] | _Miss | None:
        """A cached document of this type, MISS after a recent 404, or None (ask the service)."""
        if ("musicbrainz", mbid) in self.pending.misses:
            return self._hit("musicbrainz", MISS)
        found = self.pending.musicbrainz.get(mbid) or await self._reader.musicbrainz(mbid)
        if found is not None and found[0] == entity_type:
            return self._hit("musicbrainz", json.loads(found[1]))
        if await self._reader.miss("musicbrainz", mbid, max_age_s=self.ttl.miss_s):
            return self._hit("musicbrainz", MISS)
        return None

    async def cached_musicbrainz(self, mbids: Iterable[str], entity_type: str) -> set[str]:
        """Which of ``mbids`` have a document of this type cached, without reading them (release
        choice breaks ties with this)."""
        found, ask = set(), []
        for mbid in dict.fromkeys(mbids):
            pending = self.pending.musicbrainz.get(mbid)
            if pending is None:
                ask.append(mbid)
            elif pending[0] == entity_type:
                found.add(mbid)
        return found | (await self._reader.cached_musicbrainz(ask, entity_type) if ask else set())

    async def put_musicbrainz(
        self, mbid: str, entity_type: str, doc: dict[str, Any], *, overwrite: bool = True
    ) -> None:
        if not overwrite:
            existing = self.pending.musicbrainz.get(mbid) or await self._reader.musicbrainz(mbid)
            if existing is not None:
                return
        self.pending.musicbrainz[mbid] = (entity_type, json.dumps(doc, separators=(",", ":"), ensure_ascii=False))

    def put_miss(self, service: str, key: str, detail: str) -> None:
        self.pending.misses[(service, key)] = detail

    async def search(self, key: str) -> list[dict[str, Any]] | None:
        """Cached results of a search ([] when it found nothing), or None (ask the service)."""
        text = self.pending.search.get(key)
        if text is None:
            text = await self._reader.search(key, max_age_s=self.ttl.search_s, empty_max_age_s=self.ttl.search_empty_s)
        if text is None:
            return None
        self.hits["musicbrainz"] += 1
        value = json.loads(text)
        return value if isinstance(value, list) else None

    def put_search(self, key: str, results: list[dict[str, Any]]) -> None:
        self.pending.search[key] = json.dumps(results, separators=(",", ":"), ensure_ascii=False)

    # --- AcousticBrainz ---------------------------------------------------------------------

    async def acousticbrainz(self, mbid: str) -> dict[str, Any] | _Miss | None:
        if ("acousticbrainz", mbid) in self.pending.misses:
            return self._hit("acousticbrainz", MISS)
        text = self.pending.acousticbrainz.get(mbid) or await self._reader.acousticbrainz(mbid)
        if text is not None:
            return self._hit("acousticbrainz", json.loads(text))
        if await self._reader.miss("acousticbrainz", mbid, max_age_s=None):
            return self._hit("acousticbrainz", MISS)
        return None

    def put_acousticbrainz(self, mbid: str, doc: dict[str, Any] | None) -> None:
        if doc is None:
            self.put_miss("acousticbrainz", mbid, "no high-level data")
        else:
            self.pending.acousticbrainz[mbid] = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)

    # --- Cover Art Archive ------------------------------------------------------------------

    async def coverart(self, release_mbid: str) -> list[CaaImage] | _Miss | None:
        if ("coverart", release_mbid) in self.pending.misses:
            return self._hit("coverart", MISS)
        text = self.pending.coverart.get(release_mbid) or await self._reader.coverart(release_mbid)
        if text is not None:
            return self._hit("coverart", listing_from_json(text))
        if await self._reader.miss("coverart", release_mbid, max_age_s=self.ttl.miss_s):
            return self._hit("coverart", MISS)
        return None

    def put_coverart(self, release_mbid: str, images: list[CaaImage]) -> None:
        self.pending.coverart[release_mbid] = listing_to_json(images)
