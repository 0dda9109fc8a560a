"""TEST-070/090: at the real default rates, MusicBrainz requests are ≥ 1000 ms apart (±50 ms),
no service answers 503/429, and nothing backs off — against fakes that enforce those limits."""

from __future__ import annotations

import itertools
from dataclasses import replace

from tests.fakes import FakeServices, Rates, build_library
from tests.fakes.seed import seed_library
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.identify import Identifier, group_files, identify_and_write


async def test_real_rates_keep_musicbrainz_a_second_apart_without_503s(settings: Settings, db: Database) -> None:
    library = build_library(4, 3, seed=11)  # four small albums: five MusicBrainz requests
    with FakeServices(library.world, rates=Rates()) as fakes:  # 3/s, 1/s, 1/s, 5/s, 5 % tolerance
        real = replace(settings, **fakes.settings_changes())
        assert (real.musicbrainz_rate, real.acoustid_rate) == (1.0, 3.0)
        seeded = seed_library(db, library)
        async with Identifier(real, db, fast_options()) as ident:
            results = await identify_and_write(ident, db, group_files(seeded.files))
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
