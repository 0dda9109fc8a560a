"""``kill -9`` at random moments of a real ``wkmp-ai import`` process, then a re-run: the database
always ends complete and duplicate-free (issue: resume and incremental import).

Each trial copies the same small library into a fresh root, starts the import as a separate
process against the fake services, SIGKILLs it after a random delay (seeded, so a failure can be
replayed), runs the import again to completion and checks the whole database.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeServices, Rates
from tests.fakes.world import Artist, Medium, Recording, Release, Track, World, mbid
from tests.ingest.library import Track as AudioTrack
from tests.ingest.library import make_album
from wkmp_ai import params as P
from wkmp_ai.audio.analyze import analyze_file

TRIALS = 10
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World, list[AudioTrack]]:
    root = tmp_path_factory.mktemp("kill") / "library"
    world, tracks = kill_library(root)
    return root, world, tracks


def kill_library(root: Path) -> tuple[World, list[AudioTrack]]:
    """Two albums of four 5 s files (one file holds two songs), and a fake world that knows them all."""
    tracks = make_album(root, "One/Album", 4, seconds=5.0, seed=5)
    tracks += make_album(root, "Two/Album", 4, seconds=5.0, seed=6, songs_in_last=2)
    world = World()
    for album in ("One", "Two"):
        artist = Artist(mbid("kill-artist", album), f"{album} Artist", album)
        recordings = []
        for track in (t for t in tracks if t.rel_path.startswith(album)):
            for n, passage in enumerate(analyze_file(track.path, P.defaults(), flavor=False).passages):
                recordings.append(
                    world.add_recording(
                        Recording(
                            mbid("kill-rec", track.rel_path, n),
                            f"{album} {track.rel_path} {n}",
                            round((passage.end_s - passage.start_s) * 1000),
                            [artist],
                            [],
                            passage.fingerprint or "",
                            mbid("kill-acoustid", track.rel_path, n),
                        )
                    )
                )
        media = [
            Medium(
                1,
                "CD",
                [Track(mbid("kill-track", r.mbid), i, r.title, r.length_ms, r) for i, r in enumerate(recordings, 1)],
            )
        ]
        world.add_release(
            Release(
                mbid("kill-release", album), album, "2001-01-01", "GB", [artist], mbid("kill-rg", album), album, media
            )
        )
    return world, tracks


@pytest.fixture(scope="module")
def fakes(source: tuple[Path, World, list[AudioTrack]]) -> Iterator[FakeServices]:
    with FakeServices(source[1], rates=Rates.fast(50.0), tolerance=0.5) as services:
        yield services


def start_import(root: Path, fakes: FakeServices, tmp_path: Path) -> subprocess.Popen[bytes]:
    changes = fakes.settings_changes()
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "ACOUSTID_API_KEY": changes["acoustid_api_key"],
        **{f"WKMP_{name.upper()}": str(value) for name, value in changes.items() if name != "acoustid_api_key"},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "wkmp_ai", "import", str(root), "--root", str(root), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_9(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the import process alone, then check that its workers leave by themselves."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            os.killpg(proc.pid, 0)  # anyone left in the import's process group?
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("worker processes outlived the killed import by 10 s")
        time.sleep(0.05)


def check_database(db: Path, tracks: list[AudioTrack]) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        files = dict(conn.execute("SELECT path, guid FROM files").fetchall())
        assert sorted(files) == sorted(t.rel_path for t in tracks)
        for track in tracks:
            count = conn.execute("SELECT count(*) FROM passages WHERE file_id = ?", (files[track.rel_path],))
            assert count.fetchone()[0] == len(track.songs), track.rel_path
        passages = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        assert passages == sum(len(t.songs) for t in tracks)
        state = conn.execute("SELECT status, count(*) FROM wkmp_ai_import_state GROUP BY status").fetchall()
        assert state == [("analysed", len(tracks))]
        # identification: one song per recording, one link per passage, nothing twice
        assert conn.execute("SELECT count(*) FROM passage_songs").fetchone()[0] == passages
        assert conn.execute("SELECT count(*) FROM passage_albums").fetchone()[0] == passages
        assert conn.execute("SELECT count(*), count(DISTINCT recording_mbid) FROM songs").fetchone() == (
            passages,
            passages,
        )
        assert conn.execute("SELECT count(*) FROM albums").fetchone()[0] == 2
        assert conn.execute("SELECT count(*), count(DISTINCT artist_mbid) FROM artists").fetchone() == (2, 2)
        assert conn.execute("SELECT count(*) FROM song_artists").fetchone()[0] == passages
        statuses = conn.execute("SELECT DISTINCT status FROM wkmp_ai_identify_files").fetchall()
        assert statuses == [("identified",)]
        dupes = conn.execute(
            "SELECT count(*) FROM (SELECT entity_id, image_type, file_path FROM images "
            "GROUP BY 1, 2, 3 HAVING count(*) > 1)"
        ).fetchone()[0]
        assert dupes == 0
    finally:
        conn.close()


def test_kill_9_at_random_moments_then_rerun(
    source: tuple[Path, World, list[AudioTrack]], fakes: FakeServices, tmp_path: Path
) -> None:
    library, _world, tracks = source
    # How long an uninterrupted import takes, to spread the kills over it.
    timing_root = tmp_path / "timing"
    shutil.copytree(library, timing_root)
    started = time.monotonic()
    assert start_import(timing_root, fakes, tmp_path).wait(timeout=180) == 0
    full = time.monotonic() - started
    check_database(timing_root / "wkmp.db", tracks)

    rng = random.Random(20261125)
    for trial in range(TRIALS):
        root = tmp_path / f"trial{trial}"
        shutil.copytree(library, root)
        delay = rng.uniform(0.2, full)
        proc = start_import(root, fakes, tmp_path)
        time.sleep(delay)
        kill_9(proc)
        rerun = start_import(root, fakes, tmp_path)
        assert rerun.wait(timeout=180) == 0, f"trial {trial}: re-run after a kill at {delay:.2f} s failed"
        check_database(root / "wkmp.db", tracks)
