"""The identification caches in ``wkmp.db``, read off the event loop.

:class:`CacheReads` is what the import injects into :class:`wkmp_ai.identify.cache.IdentifyCache`
(which knows it only as a ``CacheReader``): each lookup runs one query of :mod:`wkmp_ai.db.identify`
on a worker thread's own reader connection, so a slow disk never stalls the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from wkmp_ai.db import identify as q
from wkmp_ai.db.connection import Database

__all__ = ["CacheReads"]


class CacheReads:
    def __init__(self, db: Database):
        self.db = db

    def _acoustid(self, key: str, nomatch_max_age_s: float | None) -> str | None:
        with self.db.read() as conn:
            return q.get_acoustid(conn, key, nomatch_max_age_s=nomatch_max_age_s)

    async def acoustid(self, key: str, *, nomatch_max_age_s: float | None) -> str | None:
        return await asyncio.to_thread(self._acoustid, key, nomatch_max_age_s)

    def _musicbrainz(self, mbid: str) -> tuple[str, str] | None:
        with self.db.read() as conn:
            return q.get_musicbrainz(conn, mbid)

    async def musicbrainz(self, mbid: str) -> tuple[str, str] | None:
        return await asyncio.to_thread(self._musicbrainz, mbid)

    def _cached_musicbrainz(self, mbids: list[str], entity_type: str) -> set[str]:
        with self.db.read() as conn:
            return q.cached_musicbrainz(conn, mbids, entity_type)

    async def cached_musicbrainz(self, mbids: Collection[str], entity_type: str) -> set[str]:
        return await asyncio.to_thread(self._cached_musicbrainz, list(mbids), entity_type)

    def _acousticbrainz(self, recording_mbid: str) -> str | None:
        with self.db.read() as conn:
            return q.get_acousticbrainz(conn, recording_mbid)

    async def acousticbrainz(self, recording_mbid: str) -> str | None:
        return await asyncio.to_thread(self._acousticbrainz, recording_mbid)

    def _coverart(self, release_mbid: str) -> str | None:
        with self.db.read() as conn:
            return q.get_coverart(conn, release_mbid)

    async def coverart(self, release_mbid: str) -> str | None:
        return await asyncio.to_thread(self._coverart, release_mbid)

    def _miss(self, service: str, key: str, max_age_s: float | None) -> bool:
        with self.db.read() as conn:
            return q.get_miss(conn, service, key, max_age_s=max_age_s)

    async def miss(self, service: str, key: str, *, max_age_s: float | None) -> bool:
        return await asyncio.to_thread(self._miss, service, key, max_age_s)

    def _search(self, key: str, max_age_s: float | None, empty_max_age_s: float | None) -> str | None:
        with self.db.read() as conn:
            return q.get_search(conn, key, max_age_s=max_age_s, empty_max_age_s=empty_max_age_s)

    async def search(self, key: str, *, max_age_s: float | None, empty_max_age_s: float | None) -> str | None:
        return await asyncio.to_thread(self._search, key, max_age_s, empty_max_age_s)
