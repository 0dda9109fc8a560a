"""Item 7: every network fault ends in a retry or in files finishing unidentified (pending, with a
warning) — never in a stuck or failed session — and the files keep their local analysis."""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.conftest import free_port
from tests.fakes import FakeServices, FaultKind, Library, Rates, build_library
from tests.fakes.seed import LOCAL_FLAVOR, Seeded, seed_files, seed_library
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.errors import ErrorCode
from wkmp_ai.identify import Identifier
from wkmp_ai.ingest.identify import identify_and_write, refresh_flavors
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.identify import AlbumIdentification, group_files

FAULTS = [
    "refused",
    "dns",
    "timeout",
    "http500",
    "http502",
    "http503",
    "malformed",
    "truncated",
    "html",
    "error_document",
]


@pytest.fixture(scope="module")
def small() -> Library:
    return build_library(4, 3, seed=3)


@pytest.fixture
def services(small: Library) -> Iterator[FakeServices]:
    with FakeServices(small.world, rates=Rates.fast(20.0), tolerance=0.5) as fakes:
        yield fakes


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under .invalid fail to resolve the way an unknown host does — without asking a DNS server."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
        if isinstance(host, str | bytes) and str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def break_service(fakes: FakeServices, service: str, fault: str, changes: dict[str, Any], *, times: int = 1000) -> None:
    """Make ``service`` fail with ``fault`` (for ``times`` requests); URL faults go into ``changes``."""
    fake = fakes.all[service]
    if fault == "refused":
        changes[f"{service}_url"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    elif fault == "dns":
        changes[f"{service}_url"] = f"http://{service}.invalid"
    elif fault == "timeout":
        fake.inject(FaultKind.DELAY, delay_s=1.0, times=times)
    elif fault.startswith("http"):
        retry_after = "0" if fault == "http503" else None
        fake.inject(FaultKind.STATUS, status=int(fault[4:]), retry_after=retry_after, times=times)
    else:
        fake.inject(FaultKind(fault), times=times)


async def identify(settings: Settings, db: Database, seeded: Seeded, **options: Any) -> list[AlbumIdentification]:
    async with Identifier(settings, CacheReads(db), fast_options(timeout_s=0.3, **options)) as ident:
        return await identify_and_write(ident, Writer(db), group_files(seeded.files))


def passage_rows(db: Database) -> dict[str, dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(
            "SELECT p.guid, p.title, p.musical_flavor_vector, s.status, s.flavor_pending, "
            "(SELECT COUNT(*) FROM passage_songs ps WHERE ps.passage_id = p.guid) AS songs "
            "FROM passages p JOIN wkmp_ai_identify_passages s ON s.passage_id = p.guid"
        ).fetchall()
    return {r["guid"]: dict(r) for r in rows}


def album(small: Library, db: Database, index: int = 3) -> Seeded:
    """One album of ordinary tags: it needs AcoustID, MusicBrainz, AcousticBrainz and the CAA."""
    return seed_files(db, [(f, False) for f in small.albums[index].files])


@pytest.mark.parametrize("service", ["acoustid", "musicbrainz"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_a_service_that_keeps_failing_leaves_files_pending_with_their_local_analysis(
    settings: Settings, db: Database, services: FakeServices, small: Library, no_dns: None, service: str, fault: str
) -> None:
    changes = services.settings_changes()
    break_service(services, service, fault, changes)
    seeded = album(small, db)
    # Without AcoustID these files could still be found by their tags (test_identify_search.py);
    # here the fingerprint path alone is under test.
    results = await identify(replace(settings, **changes), db, seeded, tag_search=service != "acoustid")

    (result,) = results
    assert result.counts() == {"identified": 0, "no_match": 0, "pending": 3}
    codes = Counter(w.code for w in result.warnings)
    network = ErrorCode.ACOUSTID_NETWORK_ERROR if service == "acoustid" else ErrorCode.MUSICBRAINZ_NETWORK_ERROR
    rate = ErrorCode.ACOUSTID_RATE_LIMIT if service == "acoustid" else ErrorCode.MUSICBRAINZ_RATE_LIMIT
    assert sum(codes[c] for c in (network, rate, ErrorCode.SERVICE_UNAVAILABLE)) >= 1, codes
    assert set(codes) <= {network, rate, ErrorCode.SERVICE_UNAVAILABLE}, codes
    # One failure shared by the album's three files is one warning for the album, not three.
    assert max(codes.values()) == 1, codes
    for w in result.warnings:
        if w.code is not ErrorCode.SERVICE_UNAVAILABLE:
            assert w.path == seeded.files[0].folder and "3 files of this album wait" in w.message, w
    for row in passage_rows(db).values():
        assert row["status"] == "pending" and row["songs"] == 0
        assert json.loads(row["musical_flavor_vector"]) == LOCAL_FLAVOR  # the local analysis is untouched
        assert row["title"].startswith("Song 3-")
    with db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM wkmp_ai_identify_files WHERE status = 'pending'").fetchone()[0] == 3


@pytest.mark.parametrize("fault", [f for f in FAULTS if f not in ("refused", "dns")])
async def test_a_passing_fault_is_retried_and_the_album_identified(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library, fault: str
) -> None:
    break_service(fakes, "musicbrainz", fault, {}, times=1)
    break_service(fakes, "acoustid", fault, {}, times=1)
    seeded = seed_files(db, [(f, False) for f in library.albums[3].files])
    async with Identifier(ident_settings, CacheReads(db), fast_options(timeout_s=0.3)) as ident:
        (result,) = await identify_and_write(ident, Writer(db), group_files(seeded.files))
        stats = ident.stats()
    assert result.counts()["identified"] == 12
    assert stats["musicbrainz"]["retries"] == 1 and stats["acoustid"]["retries"] == 1
    assert not [w for w in result.warnings if "NETWORK" in w.code or "RATE" in w.code]


async def test_a_service_given_up_warns_once_for_the_whole_session(
    settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    changes = fakes.settings_changes()
    changes["musicbrainz_url"] = f"http://127.0.0.1:{free_port()}"
    seeded = seed_library(db, library)
    results = await identify(replace(settings, **changes), db, seeded)
    warnings = [w for r in results for w in r.warnings if w.code is ErrorCode.SERVICE_UNAVAILABLE]
    assert len(warnings) == 1 and "MusicBrainz" in warnings[0].message and warnings[0].path is None
    network = [w for r in results for w in r.warnings if w.code is ErrorCode.MUSICBRAINZ_NETWORK_ERROR]
    # One warning an album, for at most the albums that failed before the service was given up.
    assert 1 <= len(network) <= 3, network
    folders = {f.folder for f in seeded.files}
    assert all(w.path in folders and "12 files of this album wait" in w.message for w in network), network
    assert sum(r.counts()["pending"] for r in results) == 120
    # AcoustID's answers were kept, so the later run will not ask again.
    with db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM acoustid_cache").fetchone()[0] == 96


async def test_acousticbrainz_down_keeps_the_local_flavor_until_a_refresh(
    settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    changes = fakes.settings_changes()
    break_service(fakes, "acousticbrainz", "http500", changes)
    seeded = seed_files(db, [(f, False) for f in library.albums[3].files])
    (result,) = await identify(replace(settings, **changes), db, seeded)
    assert result.counts()["identified"] == 12
    (down,) = [w for w in result.warnings if w.code is ErrorCode.ACOUSTICBRAINZ_NETWORK_ERROR]
    assert down.path == seeded.files[0].folder and "12 files of this album keep their local flavor" in down.message
    rows = passage_rows(db)
    assert all(
        r["flavor_pending"] == 1 and json.loads(r["musical_flavor_vector"]) == LOCAL_FLAVOR for r in rows.values()
    )

    fakes.acousticbrainz.reset()  # the service is back
    async with Identifier(replace(settings, **fakes.settings_changes()), CacheReads(db), fast_options()) as ident:
        assert await refresh_flavors(ident, Writer(db)) == 12
    rows = passage_rows(db)
    assert all(r["flavor_pending"] == 0 for r in rows.values())
    assert sum(json.loads(r["musical_flavor_vector"]) != LOCAL_FLAVOR for r in rows.values()) == 11  # track 12: none


async def test_cover_art_archive_down_costs_only_the_art(
    settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    changes = fakes.settings_changes()
    break_service(fakes, "coverart", "truncated", changes)
    seeded = seed_files(db, [(f, False) for f in library.albums[3].files])
    (result,) = await identify(replace(settings, **changes), db, seeded)
    assert result.counts()["identified"] == 12 and result.art == ()
    assert [w.code for w in result.warnings if w.code is ErrorCode.COVERART_NETWORK_ERROR]


async def test_an_image_that_is_not_an_image_is_refused(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    fakes.coverart.inject(FaultKind.HTML, match="1200.jpg", times=10)  # a 200 with an HTML page
    seeded = seed_files(db, [(f, False) for f in library.albums[3].files])
    (result,) = await identify(ident_settings, db, seeded)
    assert result.counts()["identified"] == 12 and result.art == ()
    assert {w.code for w in result.warnings} >= {ErrorCode.COVER_ART_INVALID}
