"""Done-when: a fake-served library of 10 albums × 12 tracks, identified end to end.

Files and passages are written to a real wkmp.db as the import would; the real Identifier runs
against the fake services over real sockets; every table is checked against the truths the fake
catalogue was built from. A second import of the same library sends no request at all.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes import FakeServices, Library
from tests.fakes.seed import LOCAL_FLAVOR, Seeded, seed_library
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.errors import ErrorCode
from wkmp_ai.identify import Identifier
from wkmp_ai.identify.acousticbrainz import flavor_vector
from wkmp_ai.ingest.identify import identify_and_write
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.identify import AlbumIdentification, group_files

TABLES = (
    "songs",
    "artists",
    "works",
    "albums",
    "images",
    "passage_songs",
    "passage_albums",
    "song_artists",
    "song_works",
    "acoustid_cache",
    "musicbrainz_cache",
    "acousticbrainz_cache",
)


def table_counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


async def run_import(settings: Settings, db: Database, seeded: Seeded) -> tuple[list[AlbumIdentification], Identifier]:
    async with Identifier(settings, CacheReads(db), fast_options()) as ident:
        results = await identify_and_write(ident, Writer(db), group_files(seeded.files))
    return results, ident


@pytest.fixture
def seeded(db: Database, library: Library) -> Seeded:
    return seed_library(db, library)


async def test_library_is_identified_with_few_requests_and_none_the_second_time(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library, seeded: Seeded
) -> None:
    results, ident = await run_import(ident_settings, db, seeded)

    # Every passage identified, each album on the release that is right for it.
    assert sum(r.counts()["identified"] for r in results) == 120
    with db.read() as conn:
        rows = conn.execute(
            "SELECT ps.passage_id, s.recording_mbid, a.album_mbid, p.file_id FROM passage_songs ps "
            "JOIN songs s ON s.guid = ps.song_id JOIN passages p ON p.guid = ps.passage_id "
            "JOIN passage_albums pa ON pa.passage_id = ps.passage_id JOIN albums a ON a.guid = pa.album_id"
        ).fetchall()
    assert len(rows) == 120
    expected_release = {f.recording.mbid: a.expected_release.mbid for a in library.albums for f in a.files}
    for _, recording, album, file_id in rows:
        assert seeded.spec_by_file[file_id].recording.mbid == recording
        assert expected_release[recording] == album

    # Request budget: zero throttling, ≤ 0.15 MusicBrainz and ≤ 0.1 AcoustID requests per file.
    sent = fakes.counts()
    assert fakes.throttled() == {"acoustid": 0, "musicbrainz": 0, "acousticbrainz": 0, "coverart": 0}
    assert sent["musicbrainz"] / 120 <= 0.15, sent
    assert sent["acoustid"] <= 12, sent
    assert ident.stats()["musicbrainz"]["requests"] == sent["musicbrainz"]
    for request in fakes.acoustid.requests:  # batched POST, gzip'd form, the meta of docs/identify.md
        assert request.method == "POST" and request.headers["content-encoding"] == "gzip"
        assert request.form["batch"] == "1"
        assert request.form["meta"] == "recordings releasegroups releases tracks compress"
        assert 1 <= sum(k.startswith("fingerprint.") for k in request.form) <= 20
    releases = [r for r in fakes.musicbrainz.requests if r.path.startswith("/ws/2/release/")]
    assert len(releases) == 10 and all("recording-level-rels" in r.query["inc"] for r in releases)
    assert all(r.headers["user-agent"].startswith("wkmp-ai/") for r in fakes.musicbrainz.requests)

    # Warnings: only what the catalogue explains.
    warnings = Counter(w.code for r in results for w in r.warnings)
    assert warnings == {ErrorCode.ACOUSTICBRAINZ_NO_DATA: 10, ErrorCode.MISSING_ALBUM_ART: 2}
    missing_art = sorted(w.path for r in results for w in r.warnings if w.code is ErrorCode.MISSING_ALBUM_ART)
    assert missing_art == ["Artist 4/Album 4", "Artist 7/Album 7"]

    counts = table_counts(db)
    assert counts["songs"] == 120 and counts["passage_songs"] == 120 and counts["passage_albums"] == 120
    assert counts["artists"] == 20  # 10 album artists + 10 guests on track 3
    assert counts["song_artists"] == 130
    assert counts["works"] == 100 and counts["song_works"] == 100  # tracks 6 and 12 perform no work
    assert counts["albums"] == 10  # only the chosen releases, not every release of each recording
    assert counts["acoustid_cache"] == 96  # albums 2-9 needed AcoustID; 0 and 1 carry MBIDs in their tags
    assert counts["acousticbrainz_cache"] == 110
    assert counts["images"] == 10  # 7 fronts + 3 backs; album 5 has folder art, 4 and 7 none anywhere

    with db.read() as conn:
        albums = {r["album_mbid"]: dict(r) for r in conn.execute("SELECT * FROM albums")}
        for a in library.albums:
            assert albums[a.expected_release.mbid]["title"] == a.title
            assert albums[a.expected_release.mbid]["release_date"] == a.expected_release.date
        weights = conn.execute(
            "SELECT s.recording_mbid, COUNT(*), SUM(sa.weight), MIN(sa.weight) FROM songs s "
            "JOIN song_artists sa ON sa.song_id = s.guid GROUP BY s.guid"
        ).fetchall()
        for recording, n, total, smallest in weights:
            assert total == pytest.approx(1.0)
            assert n == (2 if library.world.recordings[recording].title.endswith("-3") else 1)
            assert smallest == pytest.approx(1.0 / n)
        no_work = conn.execute("SELECT COUNT(*) FROM songs WHERE work_id IS NULL").fetchone()[0]
        assert no_work == 20
        ticks = conn.execute(
            "SELECT ps.start_time_ticks, ps.end_time_ticks, p.start_time_ticks, p.end_time_ticks "
            "FROM passage_songs ps JOIN passages p ON p.guid = ps.passage_id"
        ).fetchall()
        assert all(s == 0 and e == pe - ps for s, e, ps, pe in ticks)

        # Flavor: AcousticBrainz replaces the local vector; where it has none the local one stays.
        for row in conn.execute(
            "SELECT p.musical_flavor_vector, p.import_metadata, s.recording_mbid, st.flavor_source "
            "FROM passages p JOIN passage_songs ps ON ps.passage_id = p.guid JOIN songs s ON s.guid = ps.song_id "
            "JOIN wkmp_ai_identify_passages st ON st.passage_id = p.guid"
        ):
            doc = library.world.recordings[row[2]].highlevel
            if doc is None:
                assert json.loads(row[0]) == LOCAL_FLAVOR and row[3] == "essentia"
            else:
                assert json.loads(row[0]) == flavor_vector(doc) and row[3] == "acousticbrainz"
                assert json.loads(row[1])["flavor"] == {
                    "source": "acousticbrainz",
                    "recording_mbid": row[2],
                    "bpm": 120.0,
                }

        # An untagged album gets its titles from MusicBrainz; tagged ones keep theirs.
        titles = dict(
            conn.execute(
                "SELECT f.path, p.title || ' / ' || p.artist || ' / ' || p.album FROM passages p "
                "JOIN files f ON f.guid = p.file_id"
            ).fetchall()
        )
        assert titles["Artist 2/Album 2/track05.flac"] == "Song 2-5 / Artist 2 / Album 2"
        assert titles["Artist 2/Album 2/track03.flac"] == "Song 2-3 / Artist 2, Guest 2 / Album 2"
        assert titles["Artist 6/Album 6/01 Song 6-1.flac"] == "Song 6-1 / Artist 6 / Album 6"

        states = Counter(r[0] for r in conn.execute("SELECT status FROM wkmp_ai_identify_files"))
        assert states == {"identified": 120}
        request = json.loads(conn.execute("SELECT request FROM wkmp_ai_identify_files LIMIT 1").fetchone()[0])
        assert request["passages"][0]["fingerprint"] is None  # kilobytes not kept once identified

        images = conn.execute(
            "SELECT i.file_path, i.image_type, i.width, i.height, a.album_mbid FROM images i "
            "JOIN albums a ON a.guid = i.entity_id"
        ).fetchall()
    root = ident_settings.root_folder
    for path, kind, width, height, album in images:
        assert path.endswith(f"{album}.{kind.removeprefix('album_')}.jpg")
        with Image.open(Path(root) / path) as img:
            assert img.size == (width, height) == (1024, 1024)  # the 1200 px thumbnail, resized

    # A second import of the same library: everything comes from the caches and the files on disk.
    before = table_counts(db)
    fakes.reset()
    again, _ = await run_import(ident_settings, db, seeded)
    assert fakes.counts() == {"acoustid": 0, "musicbrainz": 0, "acousticbrainz": 0, "coverart": 0}
    assert table_counts(db) == before
    assert [r.passages for r in again] == [r.passages for r in results]
