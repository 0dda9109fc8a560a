"""The new user's import, end to end: real tagged audio, no AcoustID key, the service's API.

Issue #11 as filed: a library whose files carry ordinary tags, imported without an API key, was
left entirely pending after zero MusicBrainz requests. Here two tagged albums and one untagged
folder (its names say artist, album and titles) go through the whole import — scan, analysis,
identification — against the fakes: every file is identified by a search, at one search and one
release lookup per album, the artist's "Greatest Hits" is not taken for either album, and the
next import sends nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from tests.conftest import running_server
from tests.fakes import FakeServices, Rates
from tests.fakes.world import Artist, Medium, Recording, Release, Track, World, mbid
from tests.ingest.library import make_album
from tests.ingest.test_import_api import wait_finished
from wkmp_ai.config import Settings

SECONDS = 5.0  # music; plus 0.5 s of silence before and after


def world() -> World:
    w = World()
    artist = Artist(mbid("e2e-artist"), "Test Artist", "Artist, Test")
    albums: dict[str, list[Recording]] = {}
    for album, n in (("First Light", 4), ("Second Wind", 4), ("Named Album", 3)):
        recs = [
            w.add_recording(
                Recording(mbid("e2e-rec", album, i), f"Track {i}", 6000, [artist], [], f"AQADe2e{album}{i}", "x")
            )
            for i in range(1, n + 1)
        ]
        albums[album] = recs
        tracks = [Track(mbid("e2e-track", album, i), i, r.title, r.length_ms, r) for i, r in enumerate(recs, 1)]
        w.add_release(
            Release(mbid("e2e", album), album, "2001-01-01", "GB", [artist], mbid("e2e-rg", album), album,
                    [Medium(1, "CD", tracks)])
        )  # fmt: skip
    hits = albums["First Light"] + albums["Second Wind"]
    tracks = [Track(mbid("e2e-track", "hits", i), i, r.title, r.length_ms, r) for i, r in enumerate(hits, 1)]
    w.add_release(
        Release(mbid("e2e", "hits"), "First Light and Second Wind: The Hits", "2005-01-01", "GB", [artist],
                mbid("e2e-rg", "hits"), "Hits", [Medium(1, "CD", tracks)], secondary_types=["Compilation"])
    )  # fmt: skip
    return w


def test_a_tagged_library_imported_without_a_key_is_identified_by_search(settings: Settings) -> None:
    root = settings.root_folder
    make_album(root, "Test Artist/First Light", 4, seconds=SECONDS, seed=1)
    make_album(root, "Test Artist/Second Wind", 4, seconds=SECONDS, seed=2)
    make_album(root, "Test Artist/Named Album", 3, seconds=SECONDS, seed=3, tags=False)
    with FakeServices(world(), rates=Rates.fast(50.0), tolerance=0.5) as fakes:
        no_key = replace(settings, **{**fakes.settings_changes(), "acoustid_api_key": None})
        with running_server(no_key) as server:
            status = wait_finished(server, server.post("/import/start", json={}).json()["session_id"])
            assert status["state"] == "COMPLETED" and status["files_processed"] == 11
            assert status["files_identified"] == 11
            codes = [e["error_code"] for e in status["errors"]]
            assert codes.count("IDENTIFIED_BY_TAGS") == 3 and codes.count("ACOUSTID_NO_API_KEY") == 1
            searches = [r for r in fakes.musicbrainz.requests if r.path == "/ws/2/release"]
            assert len(searches) == 3 and fakes.musicbrainz.count("/ws/2/release/") == 3
            assert fakes.acoustid.count() == 0

            db = sqlite3.connect(root / "wkmp.db")
            rows = db.execute(
                "SELECT f.path, a.album_mbid, s.method FROM files f JOIN passages p ON p.file_id = f.guid "
                "JOIN passage_albums pa ON pa.passage_id = p.guid JOIN albums a ON a.guid = pa.album_id "
                "JOIN wkmp_ai_identify_passages s ON s.passage_id = p.guid"
            ).fetchall()
            assert len(rows) == 11
            for path, album, method in rows:
                folder = path.split("/")[1]
                assert album == mbid("e2e", folder)  # never the Hits compilation
                assert method == ("name_search" if folder == "Named Album" else "tag_search")

            fakes.reset()
            again = wait_finished(server, server.post("/import/start", json={}).json()["session_id"])
            assert again["state"] == "COMPLETED" and fakes.counts()["musicbrainz"] == 0
