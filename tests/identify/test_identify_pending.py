"""Offline first, identified later: pending state, identify_pending, the AcoustID key."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace

import pytest

from tests.conftest import free_port
from tests.fakes import FakeServices, Library
from tests.fakes.seed import seed_library
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.db.identify import load_pending, write_identification
from wkmp_ai.errors import ErrorCode
from wkmp_ai.identify import Identifier
from wkmp_ai.ingest.identify import identify_and_write, identify_pending
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.identify import group_files


def offline(settings: Settings) -> Settings:
    dead = f"http://127.0.0.1:{free_port()}"
    return replace(settings, acoustid_url=dead, musicbrainz_url=dead, acousticbrainz_url=dead, coverart_url=dead)


async def test_offline_import_leaves_files_pending_and_a_later_run_identifies_them(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    seeded = seed_library(db, library)
    async with Identifier(offline(ident_settings), CacheReads(db), fast_options()) as ident:
        results = await identify_and_write(ident, Writer(db), group_files(seeded.files))
    assert sum(r.counts()["pending"] for r in results) == 120
    unavailable = [w for r in results for w in r.warnings if w.code is ErrorCode.SERVICE_UNAVAILABLE]
    assert len(unavailable) <= 2  # AcoustID and/or MusicBrainz given up: one warning each
    with db.read() as conn:
        assert len(load_pending(conn)) == 120

    report = await identify_pending(db, ident_settings, options=fast_options())
    assert report.groups == 10 and report.files == 120
    assert report.passages["identified"] == 120
    with db.read() as conn:
        assert load_pending(conn) == []
        assert conn.execute("SELECT COUNT(*) FROM passage_songs").fetchone()[0] == 120

    fakes.reset()
    again = await identify_pending(db, ident_settings, options=fast_options())
    assert again.files == 0 and sum(fakes.counts().values()) == 0


async def test_a_passage_deleted_before_the_write_is_skipped(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    seeded = seed_library(db, library)
    groups = group_files(seeded.files)
    gone = groups[3].files[0]
    async with Identifier(ident_settings, CacheReads(db), fast_options()) as ident:
        result = await ident.identify_album(groups[3])
    with db.write() as conn:
        conn.execute("DELETE FROM files WHERE guid = ?", (gone.file_id,))
    with db.write() as conn:
        write_identification(conn, result)
        write_identification(conn, result)  # idempotent
        assert conn.execute("SELECT COUNT(*) FROM passage_songs").fetchone()[0] == 11
        assert conn.execute("SELECT COUNT(*) FROM wkmp_ai_identify_files").fetchone()[0] == 119


async def test_without_a_key_acoustid_is_skipped_once_and_tagged_files_still_identified(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    seeded = seed_library(db, library)
    async with Identifier(replace(ident_settings, acoustid_api_key=None), CacheReads(db), fast_options()) as ident:
        results = await identify_and_write(ident, Writer(db), group_files(seeded.files))
    no_key = [w for r in results for w in r.warnings if w.code is ErrorCode.ACOUSTID_NO_API_KEY]
    assert len(no_key) == 1 and no_key[0].path is None
    by_album = {r.group_key.split("\n")[0]: Counter(p.method for p in r.passages) for r in results}
    assert by_album["Artist 0/Album 0"] == {"tags": 12}  # release + recording MBIDs in the tags
    assert by_album["Artist 1/Album 1"] == {"tags": 12}  # recording MBIDs in the tags
    # The others are found by a MusicBrainz search: album 2 by its folder names and durations alone.
    assert by_album["Artist 2/Album 2"] == {"name_search": 12}
    assert all(by_album[f"Artist {a}/Album {a}"] == {"tag_search": 12} for a in range(3, 10))
    assert sum(r.counts()["identified"] for r in results) == 120
    by_tags = [w for r in results for w in r.warnings if w.code is ErrorCode.IDENTIFIED_BY_TAGS]
    assert len(by_tags) == 8 and all("no AcoustID API key" in w.message for w in by_tags)
    assert fakes.acoustid.count() == 0


async def test_an_invalid_key_gives_acoustid_up_and_never_shows_the_key(
    ident_settings: Settings,
    db: Database,
    fakes: FakeServices,
    library: Library,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "wrong-key-7d1e0c9b"
    caplog.set_level(logging.DEBUG)
    seeded = seed_library(db, library)
    async with Identifier(replace(ident_settings, acoustid_api_key=secret), CacheReads(db), fast_options()) as ident:
        results = await identify_and_write(ident, Writer(db), group_files(seeded.files))
        stats = ident.stats()
    warnings = [w for r in results for w in r.warnings]
    unavailable = [w for w in warnings if w.code is ErrorCode.SERVICE_UNAVAILABLE]
    assert len(unavailable) == 1 and "invalid API key" in unavailable[0].message
    assert fakes.acoustid.count() <= 2  # given up at the first answer, not retried
    # What needed AcoustID is found by a MusicBrainz search on tags and names instead.
    methods = Counter(p.method for r in results for p in r.passages if p.status == "identified")
    assert methods == {"tags": 24, "tag_search": 84, "name_search": 12}
    # The key reached the service (in the gzip'd body) and nowhere else.
    assert fakes.acoustid.requests[0].form["client"] == secret
    with db.read() as conn:
        dump = "\n".join(conn.iterdump())
    visible = [caplog.text, repr(warnings), repr(results), repr(stats), repr(ident_settings), dump]
    assert not [text for text in visible if secret in text]
    assert secret not in repr(replace(ident_settings, acoustid_api_key=secret))
