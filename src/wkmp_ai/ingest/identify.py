"""Identification as the import runs it: results written through the one :class:`Writer`, and files
that an earlier run could not identify (offline, no API key, a service down).

A file handed to identification is recorded with its request (tags, passages, fingerprints) in
``wkmp_ai_identify_files`` — by :func:`wkmp_ai.db.identify.save_pending` in the transaction that
writes its passages, and again by ``write_identification``. Files left ``pending`` there, and
identified passages still waiting for AcousticBrainz, are picked up by :func:`identify_pending`;
thanks to the caches, whatever was already answered costs no request the second time.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wkmp_ai.config import Settings
from wkmp_ai.db import identify as q
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.db.connection import Database
from wkmp_ai.identify.acousticbrainz import flavor_vector
from wkmp_ai.identify.identifier import Identifier
from wkmp_ai.identify.lookups import IdentifyOptions
from wkmp_ai.identify.ratelimit import RateLimiter
from wkmp_ai.ingest.rootfiles import save_album_art
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.identify import (
    AlbumGroup,
    AlbumIdentification,
    IdentifyWarning,
    group_files,
)

__all__ = ["PendingReport", "identify_and_write", "identify_pending", "refresh_flavors"]


@dataclass
class PendingReport:
    groups: int = 0
    files: int = 0
    passages: Counter[str] = field(default_factory=Counter)
    flavors_refreshed: int = 0
    warnings: list[IdentifyWarning] = field(default_factory=list)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)


async def identify_and_write(
    ident: Identifier,
    writer: Writer,
    groups: Sequence[AlbumGroup],
    *,
    concurrency: int = 8,
    on_result: Callable[[AlbumIdentification], None] | None = None,
) -> list[AlbumIdentification]:
    """Identify groups, ``concurrency`` at a time, writing each result as soon as it is ready."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(group: AlbumGroup) -> AlbumIdentification:
        async with gate:
            result = await ident.identify_album(group)
        result = await save_album_art(ident.root_folder, result)
        await writer.write(q.write_identification, result)
        if on_result is not None:
            on_result(result)
        return result

    results = await asyncio.gather(*(one(g) for g in groups))
    leftover = ident.drain_cache()
    if leftover:
        await writer.write(q.write_cache, leftover)
    return list(results)


async def refresh_flavors(ident: Identifier, writer: Writer) -> int:
    """Fetch AcousticBrainz data for identified passages that could not get it before."""
    with writer.db.read() as conn:
        waiting = q.load_flavor_pending(conn)
    if not waiting:
        return 0
    answers = await ident.high_level([mbid for _, _, mbid in waiting])
    updates = [
        (passage_id, mbid, flavor_vector(answer))
        for passage_id, _, mbid in waiting
        if not isinstance(answer := answers.get(mbid), BaseException)
    ]
    writes = ident.drain_cache()

    def write(conn: Any) -> None:
        q.write_cache(conn, writes)
        q.write_flavors(conn, updates)

    await writer.write(write)
    return len(updates)


async def identify_pending(
    db: Database,
    settings: Settings,
    *,
    options: IdentifyOptions | None = None,
    identifier: Identifier | None = None,
    limiters: Mapping[str, RateLimiter] | None = None,
    concurrency: int = 8,
) -> PendingReport:
    """Identify every pending file of the database; return what happened."""
    with db.read() as conn:
        pending = q.load_pending(conn)
    groups = group_files(file for _key, file in pending)  # the stored key is group_key of the same request
    report = PendingReport(groups=len(groups), files=len(pending))
    ident = identifier or Identifier(settings, CacheReads(db), options, limiters=limiters)
    writer = Writer(db)
    try:
        results = await identify_and_write(ident, writer, groups, concurrency=concurrency)
        for result in results:
            report.passages.update(result.counts())
            report.warnings.extend(result.warnings)
        report.flavors_refreshed = await refresh_flavors(ident, writer)
        report.stats = ident.stats()
    finally:
        writer.close()
        if identifier is None:
            await ident.aclose()
    return report
