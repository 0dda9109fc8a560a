"""Network faults through the fake services (issue 16, standing test): slow bodies, resets mid-body,
503 storms, wrong content types, invalid UTF-8, huge bodies. The identification run completes,
never outpaces a service's rate limit, and loses nothing: what the storm left pending is identified
by the next run, and the end result is exactly that of a run without faults.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeServices, FaultKind, Library, Rates, build_library
from tests.fakes.seed import seed_library
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings
from wkmp_ai.db import Database, open_database
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.identify import Identifier, RetryPolicy, make_limiters
from wkmp_ai.identify.ratelimit import RateLimiter
from wkmp_ai.ingest.identify import identify_and_write, identify_pending
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.identify import group_files

# Every kind of fault, as the fakes play them; each entry is played to one request.
FAULTS: list[dict[str, Any]] = [
    {"kind": FaultKind.SLOW_BODY, "delay_s": 0.1},
    {"kind": FaultKind.TRUNCATED},  # reset mid-body
    {"kind": FaultKind.RESET},
    {"kind": FaultKind.WRONG_TYPE},
    {"kind": FaultKind.INVALID_UTF8},
    {"kind": FaultKind.HUGE, "size_mb": 48},
    {"kind": FaultKind.HTML},
    {"kind": FaultKind.MALFORMED},
    {"kind": FaultKind.STATUS, "status": 500},
    *[{"kind": FaultKind.STATUS, "status": 503, "retry_after": "0"}] * 6,  # a 503 storm
]
OPTIONS = fast_options(timeout_s=0.6, retry=RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.05))


@pytest.fixture(scope="module")
def library() -> Library:
    return build_library(6, 4, seed=16)


def outcome(db_path: Path) -> dict[str, tuple[Any, ...]]:
    """What identification decided for each file: status, recording, release, album art."""
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(
            "SELECT f.path, s.status, s.recording_mbid, s.release_mbid, s.flavor_source,"
            " (SELECT group_concat(i.image_type) FROM passage_albums pa JOIN albums a ON a.guid = pa.album_id"
            "   JOIN images i ON i.entity_id = a.guid WHERE pa.passage_id = s.passage_id)"
            " FROM wkmp_ai_identify_passages s JOIN files f ON f.guid = s.file_id"
        ).fetchall()
    finally:
        conn.close()
    return {r[0]: tuple(r[1:]) for r in rows}


async def run(
    settings: Settings, db: Database, library: Library, limiters: dict[str, RateLimiter] | None = None
) -> tuple[dict[str, dict[str, Any]], Counter[str]]:
    seeded = seed_library(db, library)
    async with Identifier(settings, CacheReads(db), OPTIONS, limiters=limiters) as ident:
        results = await identify_and_write(ident, Writer(db), group_files(seeded.files))
        stats = ident.stats()
    return stats, Counter(w.code.value for r in results for w in r.warnings)


async def test_fault_storm_loses_nothing_and_keeps_the_pace(
    settings: Settings, db: Database, library: Library, tmp_path: Path
) -> None:
    with FakeServices(library.world, rates=Rates.fast(20.0), tolerance=0.5) as fakes:
        reference_db = open_database(tmp_path / "reference" / "wkmp.db")
        reference_settings = replace(settings, root_folder=tmp_path / "reference", **fakes.settings_changes())
        try:
            await run(reference_settings, reference_db, library)
        finally:
            reference_db.close()
        reference = outcome(tmp_path / "reference" / "wkmp.db")
        assert Counter(v[0] for v in reference.values())["identified"] >= 20

        fakes.reset()
        rng = random.Random(1616)
        injected = 0
        for name, fake in fakes.all.items():
            plan = [dict(f) for f in FAULTS if not (name == "coverart" and f["kind"] is FaultKind.INVALID_UTF8)]
            rng.shuffle(plan)
            for fault in plan:
                fake.inject(**fault)
                injected += 1
        storm_settings = replace(settings, **fakes.settings_changes())
        # One pace for the storm and the pass after it, as every session of a process shares it
        # (make_limiters): the next pass's first request must not crowd the storm's last.
        limiters = make_limiters(storm_settings)
        started = time.monotonic()
        stats, warnings = await run(storm_settings, db, library, limiters)
        storm_s = time.monotonic() - started
        assert storm_s < 30, f"the storm took {storm_s:.0f} s: a slow body held its request past the timeout"
        played = Counter(kind for f in fakes.all.values() for kind in f.faults_played)
        throttled = fakes.throttled()
        first = outcome(settings.db_path)
        assert sorted(first) == sorted(reference)  # every file has its identification state
        assert set(v[0] for v in first.values()) <= {"identified", "pending", "no_match"}
        assert set(played) == {f["kind"] for f in FAULTS}, played  # every kind of fault met a request
        assert played[FaultKind.STATUS] >= 7  # a 503 storm, not a single 503
        assert sum(s["retries"] for s in stats.values()) >= sum(played.values()) // 2
        assert throttled == {name: 0 for name in fakes.all}, throttled  # the pace held through the storm
        pending = [p for p, v in first.items() if v[0] == "pending"]
        if pending:
            assert warnings, "files left pending without a warning"

        for fake in fakes.all.values():
            fake.faults.clear()  # the services are fine again (a service given up left faults unplayed)
        async with Identifier(storm_settings, CacheReads(db), OPTIONS, limiters=limiters) as ident:
            await identify_pending(db, storm_settings, identifier=ident)
        final = outcome(settings.db_path)
        assert fakes.throttled() == {name: 0 for name in fakes.all}
    # Nothing identified was lost: every file ends as the fault-free run left it.
    assert {p: v[:4] for p, v in final.items()} == {p: v[:4] for p, v in reference.items()}
    # Album art is the exception, and a reported one: an album whose Cover Art Archive requests failed
    # keeps no art, and identified files are not revisited (docs/identify.md, "Known limits").
    art_lost = {p.rsplit("/", 1)[0] for p, v in final.items() if v[4] != reference[p][4]}
    assert all(v[4] is None for p, v in final.items() if v[4] != reference[p][4])
    if art_lost:
        assert warnings["COVERART_NETWORK_ERROR"] >= 1
    retries = sum(s["retries"] for s in stats.values())
    print(
        f"\nfaults injected {injected}, played {sum(played.values())} ({ {k.value: n for k, n in played.items()} }),"
        f" retries {retries},"
        f" left pending {len(pending)} of {len(first)} (all identified by the next run),"
        f" album folders without art after the storm: {len(art_lost)}; {storm_s:.1f} s"
    )


async def test_a_huge_body_is_abandoned_at_the_cap(settings: Settings, db: Database, library: Library) -> None:
    with FakeServices(library.world, rates=Rates.fast(50.0), tolerance=0.5) as fakes:
        fakes.musicbrainz.inject(FaultKind.HUGE, size_mb=400, times=100)
        changes = fakes.settings_changes()
        options = fast_options(timeout_s=20.0, retry=RetryPolicy(attempts=1), breaker_threshold=100)
        seeded = seed_library(db, library)
        files = [f for f in seeded.files if f.rel_path.startswith(library.albums[0].files[0].rel_path.split("/")[0])]
        async with Identifier(replace(settings, **changes), CacheReads(db), options) as ident:
            results = await identify_and_write(ident, Writer(db), group_files(files))
            stats = ident.stats()
    messages = [w.message for r in results for w in r.warnings]
    assert any("answer of more than" in m and "bytes refused" in m for m in messages), messages
    assert stats["musicbrainz"]["failures"] >= 1


async def test_a_service_given_up_fails_at_once() -> None:
    """Once a service is given up, asking it costs nothing: no wait for a rate-limit slot (an offline
    import spent seconds per album waiting for MusicBrainz slots it would not use)."""
    from tests.conftest import DEAD_URL
    from wkmp_ai.identify.http import ServiceClient, ServiceError, ServiceUnavailable

    http = ServiceClient(
        "musicbrainz", DEAD_URL, rate=1.0, user_agent="wkmp-ai/test", retry=RetryPolicy(attempts=1), breaker_threshold=1
    )
    try:
        with pytest.raises(ServiceError):
            await http.get_json("/ws/2/release/x")  # refused: the breaker trips
        started = time.monotonic()
        for _ in range(5):
            with pytest.raises(ServiceUnavailable):
                await http.get_json("/ws/2/release/x")
        assert time.monotonic() - started < 0.5  # at 1 request/s, five slots would take 5 s
    finally:
        await http.aclose()
