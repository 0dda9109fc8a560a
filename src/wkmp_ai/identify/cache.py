"""The identification caches, checked before any request (SPEC032 AIA-PERF-020).

Lookups look first at the answers fetched in this session that are not yet written (``pending``,
handed to the writer with each result — see :meth:`IdentifyCache.drain`), then at the database.
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
from dataclasses import dataclass
from typing import Any, Final

from wkmp_ai.db import identify as q
from wkmp_ai.db.connection import Database
from wkmp_ai.identify.acoustid import candidates_from_json, candidates_to_json
from wkmp_ai.identify.coverart import CaaImage, listing_from_json, listing_to_json
from wkmp_ai.identify.evidence import AcoustIDCandidate
from wkmp_ai.records.identify import CacheWrites

__all__ = ["MISS", "CacheTTL", "IdentifyCache"]


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


class IdentifyCache:
    def __init__(self, db: Database | None, ttl: CacheTTL | None = None):
        self._db = db
        self.ttl = ttl or CacheTTL()
        self.pending = CacheWrites()
        self.hits: Counter[str] = Counter()

    def drain(self) -> CacheWrites:
        """Hand over everything fetched since the last drain (for ``write_identification``)."""
        out, self.pending = self.pending, CacheWrites()
        return out

    def _read(self, fn: Any, *args: Any, **kw: Any) -> Any:
        if self._db is None:
            return None
        with self._db.read() as conn:
            return fn(conn, *args, **kw)

    def _hit(self, service: str, value: Any) -> Any:
        if value is not None:
            self.hits[service] += 1
        return value

    # --- AcoustID ---------------------------------------------------------------------------

    def acoustid(self, key: str) -> tuple[AcoustIDCandidate, ...] | None:
        text = self.pending.acoustid.get(key)
        if text is None:
            text = self._read(q.get_acoustid, key, nomatch_max_age_s=self.ttl.acoustid_nomatch_s)
        return self._hit("acoustid", None if text is None else candidates_from_json(text))

    def put_acoustid(self, key: str, candidates: tuple[AcoustIDCandidate, ...]) -> None:
        self.pending.acoustid[key] = candidates_to_json(candidates)

    # --- MusicBrainz ------------------------------------------------------------------------

    def musicbrainz(self, mbid: str, entity_type: str) -> dict[str, Any] | _Miss | None:
        """A cached document of this type, MISS after a recent 404, or None (ask the service)."""
        if ("musicbrainz", mbid) in self.pending.misses:
            return self._hit("musicbrainz", MISS)
        found = self.pending.musicbrainz.get(mbid) or self._read(q.get_musicbrainz, mbid)
        if found is not None and found[0] == entity_type:
            return self._hit("musicbrainz", json.loads(found[1]))
        if self._read(q.get_miss, "musicbrainz", mbid, max_age_s=self.ttl.miss_s):
            return self._hit("musicbrainz", MISS)
        return None

    def has_musicbrainz(self, mbid: str, entity_type: str) -> bool:
        """Whether a document is cached, without reading it (release choice breaks ties with this)."""
        pending = self.pending.musicbrainz.get(mbid)
        if pending is not None:
            return pending[0] == entity_type
        return bool(self._read(q.has_musicbrainz, mbid, entity_type))

    def put_musicbrainz(self, mbid: str, entity_type: str, doc: dict[str, Any], *, overwrite: bool = True) -> None:
        if not overwrite:
            existing = self.pending.musicbrainz.get(mbid) or self._read(q.get_musicbrainz, mbid)
            if existing is not None:
                return
        self.pending.musicbrainz[mbid] = (entity_type, json.dumps(doc, separators=(",", ":"), ensure_ascii=False))

    def put_miss(self, service: str, key: str, detail: str) -> None:
        self.pending.misses[(service, key)] = detail

    def search(self, key: str) -> list[dict[str, Any]] | None:
        """Cached results of a search ([] when it found nothing), or None (ask the service)."""
        text = self.pending.search.get(key)
        if text is None:
            text = self._read(q.get_search, key, max_age_s=self.ttl.search_s, empty_max_age_s=self.ttl.search_empty_s)
        if text is None:
            return None
        self.hits["musicbrainz"] += 1
        value = json.loads(text)
        return value if isinstance(value, list) else None

    def put_search(self, key: str, results: list[dict[str, Any]]) -> None:
        self.pending.search[key] = json.dumps(results, separators=(",", ":"), ensure_ascii=False)

    # --- AcousticBrainz ---------------------------------------------------------------------

    def acousticbrainz(self, mbid: str) -> dict[str, Any] | _Miss | None:
        if ("acousticbrainz", mbid) in self.pending.misses:
            return self._hit("acousticbrainz", MISS)
        text = self.pending.acousticbrainz.get(mbid) or self._read(q.get_acousticbrainz, mbid)
        if text is not None:
            return self._hit("acousticbrainz", json.loads(text))
        if self._read(q.get_miss, "acousticbrainz", mbid, max_age_s=None):
            return self._hit("acousticbrainz", MISS)
        return None

    def put_acousticbrainz(self, mbid: str, doc: dict[str, Any] | None) -> None:
        if doc is None:
            self.put_miss("acousticbrainz", mbid, "no high-level data")
        else:
            self.pending.acousticbrainz[mbid] = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)

    # --- Cover Art Archive ------------------------------------------------------------------

    def coverart(self, release_mbid: str) -> list[CaaImage] | _Miss | None:
        if ("coverart", release_mbid) in self.pending.misses:
            return self._hit("coverart", MISS)
        text = self.pending.coverart.get(release_mbid) or self._read(q.get_coverart, release_mbid)
        if text is not None:
            return self._hit("coverart", listing_from_json(text))
        if self._read(q.get_miss, "coverart", release_mbid, max_age_s=self.ttl.miss_s):
            return self._hit("coverart", MISS)
        return None

    def put_coverart(self, release_mbid: str, images: list[CaaImage]) -> None:
        self.pending.coverart[release_mbid] = listing_to_json(images)
