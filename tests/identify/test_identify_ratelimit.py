"""TEST-070/090: at the real default rates, MusicBrainz requests are ≥ 1000 ms apart (±50 ms),
no service answers 503/429, and nothing backs off — against fakes that enforce those limits;
and a server counting arrivals in any 1-second window behind a jittery network refuses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from dataclasses import replace

import pytest

from tests.fakes import FakeMusicBrainz, FakeServices, Rates, build_library
from tests.fakes.seed import seed_files, seed_library
from tests.fakes.tagging import build_search_library
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings, load_settings
from wkmp_ai.db import Database
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.identify import Identifier, RetryPolicy, make_limiters
from wkmp_ai.identify.http import ServiceClient, ServiceError
from wkmp_ai.identify.identifier import MARGIN_S
from wkmp_ai.identify.ratelimit import RateLimiter
from wkmp_ai.ingest.identify import identify_and_write
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.identify import group_files


async def test_real_rates_keep_musicbrainz_a_second_apart_without_503s(settings: Settings, db: Database) -> None:
    library = build_library(4, 3, seed=11)  # four small albums: five MusicBrainz requests
    with FakeServices(library.world, rates=Rates()) as fakes:  # 3/s, 1/s, 1/s, 5/s, 5 % tolerance
        real = replace(settings, **fakes.settings_changes())
        assert (real.musicbrainz_rate, real.acoustid_rate) == (1.0, 3.0)
        seeded = seed_library(db, library)
        async with Identifier(real, CacheReads(db), fast_options()) as ident:
            results = await identify_and_write(ident, Writer(db), group_files(seeded.files))
        stats = ident.stats()

    assert all(r.counts()["identified"] == 3 for r in results)
    assert fakes.throttled() == {"acoustid": 0, "musicbrainz": 0, "acousticbrainz": 0, "coverart": 0}
    assert all(s["retries"] == 0 and s["throttled"] == 0 for s in stats.values())
    mb = [r.time for r in fakes.musicbrainz.requests]
    assert len(mb) == 5
    gaps = [b - a for a, b in itertools.pairwise(mb)]
    assert min(gaps) >= 0.95, gaps  # arrival at the server, GIL and loopback jitter included
    assert max(gaps) < 1.5, gaps  # and no needless waiting either
    acoustid_gaps = fakes.acoustid.arrival_gaps()
    assert all(g >= 0.95 / 3 for g in acoustid_gaps), acoustid_gaps


# --- a server that counts arrivals in any 1-second window, behind a jittery network ----------


def _client(url: str, limiter: RateLimiter) -> ServiceClient:
    return ServiceClient(
        "musicbrainz",
        url,
        rate=limiter.rate,
        user_agent="wkmp-ai/test ( https://example.org )",
        retry=RetryPolicy(attempts=1),
        limiter=limiter,
    )


async def _send(fake: FakeMusicBrainz, limiter: RateLimiter, n: int) -> None:
    client = _client(fake.url, limiter)
    mbid = next(iter(fake.world.releases))
    try:
        for _ in range(n):
            with contextlib.suppress(ServiceError):
                await client.get_json(f"/ws/2/release/{mbid}", {"fmt": "json"})
    finally:
        await client.aclose()


def test_the_limiter_margin_widens_every_interval() -> None:
    assert RateLimiter(1.0, margin_s=0.1).interval == pytest.approx(1.1)
    limiters = make_limiters(replace(load_settings({"root_folder": "/tmp"}, env={}), musicbrainz_rate=1.0))
    assert limiters["musicbrainz"].interval == pytest.approx(1.0 + MARGIN_S["musicbrainz"])
    assert MARGIN_S["musicbrainz"] >= 0.05
    with pytest.raises(ValueError, match="margin"):
        RateLimiter(1.0, margin_s=-0.1)


async def test_requests_exactly_one_second_apart_are_refused_when_the_network_delays_one_of_them() -> None:
    """Why the margin exists: two requests that leave 1.000 s apart, the first delayed 40 ms on the
    way, arrive 0.96 s apart — one too many in that second. With the margin none is refused."""
    world = build_library(1, 1, seed=3).world
    delays = itertools.cycle([0.04, 0.0])
    fake = FakeMusicBrainz(world, rate=1.0, window=True, jitter=lambda: next(delays)).start()
    try:
        await _send(fake, RateLimiter(1.0), 3)
        assert fake.throttled >= 1
        await asyncio.sleep(1.1)  # out of the last accepted arrival's window
        fake.reset()
        await _send(fake, RateLimiter(1.0, margin_s=MARGIN_S["musicbrainz"]), 3)
        assert fake.throttled == 0 and fake.count() == 3
    finally:
        fake.stop()


async def test_a_search_import_at_the_real_rate_meets_no_refusal_through_a_jittery_network(
    settings: Settings, db: Database
) -> None:
    """Four albums found by search (search + lookup each) at 1/s, against a server that allows one
    arrival in any 1-second window, every arrival delayed 0–60 ms at random."""
    library = build_search_library(4, 3, seed=11)
    rng = random.Random(5)
    with FakeServices(library.world, rates=Rates(), window=True, jitter=lambda: rng.uniform(0.0, 0.06)) as fakes:
        real = replace(settings, **{**fakes.settings_changes(), "acoustid_api_key": None})
        specs = [(f, False) for a in (2, 3) for f in library.albums[a].files]
        seeded = seed_files(db, specs)
        async with Identifier(real, CacheReads(db), fast_options()) as ident:
            results = await identify_and_write(ident, Writer(db), group_files(seeded.files))
    assert sum(r.counts()["identified"] for r in results) == 6
    assert fakes.musicbrainz.count() == 4 and fakes.musicbrainz.throttled == 0
    gaps = fakes.musicbrainz.arrival_gaps()
    assert min(gaps) >= 1.0 and max(gaps) < 1.5, gaps
