"""A small library imported once per module through the real API (services offline), for the
segment editor's API and page tests; and a fake MusicBrainz that knows two releases of the
three-song file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEAD_URL, SERVICES, LiveServer, free_port, running_server
from tests.fakes import FakeServices, Rates
from tests.fakes.world import Artist, Medium, Recording, Release, Track, World, fake_fingerprint, mbid
from tests.ingest.library import Track as AudioTrack
from tests.ingest.library import make_album
from tests.ingest.test_import_api import wait_finished
from wkmp_ai.config import load_settings
from wkmp_ai.db import open_database
from wkmp_ai.db.candidates import write_candidates
from wkmp_ai.records.identify import CandidateRelease, FileCandidates

SONG_S = 7.0


@dataclass
class Imported:
    server: LiveServer
    files: dict[str, AudioTrack]  # folder → the file in it
    ids: dict[str, str]  # folder → file guid
    world: World
    fakes: FakeServices

    @property
    def db_path(self) -> Path:
        return self.server.settings.db_path

    def rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db_path)
        try:
            return [tuple(r) for r in conn.execute(sql, args)]
        finally:
            conn.close()

    def passages(self, folder: str) -> list[tuple[Any, ...]]:
        return self.rows(
            "SELECT guid, start_time_ticks, end_time_ticks, lead_in_start_ticks, lead_out_start_ticks, import_metadata "
            "FROM passages WHERE file_id = ? ORDER BY start_time_ticks",
            self.ids[folder],
        )

    def offer_releases(self, folder: str) -> None:
        """What a search by tags would have stored for the file: two releases, neither sure enough."""
        wrong, right = (
            next(r for r in self.world.releases.values() if r.title == t) for t in ("Wrong Album", "Right Album")
        )
        offered = tuple(
            CandidateRelease(rel.mbid, rel.title, "The Editors", rel.date, rel.track_count, score, checked=False)
            for rel, score in ((wrong, 0.6), (right, 0.55))
        )
        db = open_database(self.db_path)
        try:
            with db.write() as conn:
                write_candidates(conn, FileCandidates(self.ids[folder], "tag_search", offered))
        finally:
            db.close()

    def reimport(self, folder: str = "") -> dict[str, Any]:
        session = self.server.post("/import/start", json={"root_folder": folder} if folder else {}).json()
        return wait_finished(self.server, session["session_id"])


def three_song_world() -> World:
    """Two releases with three tracks each; the second is the right one for the 'Album' file."""
    world = World()
    artist = Artist(mbid("editor-artist"), "The Editors", "Editors, The")
    for r, title in enumerate(("Wrong Album", "Right Album")):
        tracks = []
        for n in range(3):
            rec = Recording(
                mbid=mbid("editor-rec", r, n),
                title=f"{'Wrong' if r == 0 else 'Right'} Song {n + 1}",
                length_ms=int(SONG_S * 1000 + 1000),
                artists=[artist],
                works=[],
                fingerprint=fake_fingerprint("editor", r, n),
                acoustid_track=mbid("editor-at", r, n),
            )
            world.add_recording(rec)
            tracks.append(Track(mbid("editor-track", r, n), n + 1, rec.title, rec.length_ms, rec))
        world.add_release(
            Release(
                mbid=mbid("editor-release", r),
                title=title,
                date=f"200{r}-01-01",
                country="GB",
                artists=[artist],
                rg_mbid=mbid("editor-rg", r),
                rg_title=title,
                media=[Medium(1, "CD", tracks)],
            )
        )
    return world


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    base = tmp_path_factory.mktemp("editor")
    root = (base / "music").resolve()
    root.mkdir()
    files = {}
    for folder, songs, fmt, seed in (
        ("Mix", 3, "flac", 1),
        ("Single", 1, "flac", 2),
        ("Album", 3, "flac", 3),
        ("Reimport", 2, "flac", 4),
        ("Odd", 1, "aiff", 5),
        ("Browser", 3, "flac", 6),
        ("Split", 1, "flac", 7),
    ):
        seconds = 2 * SONG_S if folder in ("Single", "Split") else SONG_S
        track = make_album(root, folder, 1, seconds=seconds, songs_in_last=songs, formats=(fmt,), seed=seed)[0]
        files[folder] = track
    world = three_song_world()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CONFIG_HOME", str(base / "xdg"))
        mp.setenv("XDG_CACHE_HOME", str(base / "cache"))
        urls = {f"{name}_url": DEAD_URL for name in SERVICES}
        settings = load_settings({"root_folder": root, "port": free_port(), **urls}, env={})
        with FakeServices(world, rates=Rates.fast(50.0), tolerance=0.5) as fakes:
            # identification stays offline (files pending); only the editor's release look-ups reach the fake
            changes = fakes.settings_changes()
            settings = replace(settings, musicbrainz_url=changes["musicbrainz_url"], musicbrainz_rate=50.0)
            with running_server(settings, timeout=60) as server:
                status = wait_finished(server, server.post("/import/start", json={}).json()["session_id"], 300)
                assert status["state"] == "COMPLETED", status
                conn = sqlite3.connect(settings.db_path)
                ids = {path.split("/")[0]: guid for guid, path in conn.execute("SELECT guid, path FROM files")}
                conn.close()
                yield Imported(server, files, ids, world, fakes)
