"""Imports next to other readers, offline then online, and SIGTERM to the service mid-import."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_server_process import wait_healthy
from tests.conftest import DEAD_URL, LiveServer, free_port, offline_env, running_server
from tests.fakes import FakeServices, Rates
from tests.fakes.world import Artist, Medium, Recording, Release, Track, World, mbid
from tests.ingest.library import make_album
from tests.ingest.test_import_api import wait_finished
from wkmp_ai import params as P
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.config import Settings


def world_for(tracks: list, album: str) -> World:  # type: ignore[type-arg]
    world = World()
    artist = Artist(mbid("res-artist", album), "Resilient", "Resilient")
    recordings = []
    for track in tracks:
        passage = analyze_file(track.path, P.defaults(), flavor=False).passages[0]
        recordings.append(
            world.add_recording(
                Recording(
                    mbid("res-rec", track.rel_path),
                    track.rel_path,
                    round((passage.end_s - passage.start_s) * 1000),
                    [artist],
                    [],
                    passage.fingerprint or "",
                    mbid("res-acoustid", track.rel_path),
                )
            )
        )
    media = [
        Medium(
            1, "CD", [Track(mbid("res-track", r.mbid), i, r.title, r.length_ms, r) for i, r in enumerate(recordings, 1)]
        )
    ]
    world.add_release(
        Release(mbid("res-release", album), album, "2000", "GB", [artist], mbid("res-rg", album), album, media)
    )
    return world


def test_offline_import_is_identified_by_the_next_run(settings: Settings) -> None:
    root = settings.root_folder
    tracks = make_album(root, "Offline/Album", 3, seconds=5.0)
    with FakeServices(world_for(tracks, "Album"), rates=Rates.fast(50.0), tolerance=0.5) as fakes:
        online = replace(settings, **fakes.settings_changes())
        offline = replace(online, **{f"{name}_url": DEAD_URL for name in fakes.all})
        status = _import_once(offline)
        assert status["state"] == "COMPLETED" and status["files_processed"] == 3
        assert {e["error_code"] for e in status["errors"]} & {"SERVICE_UNAVAILABLE", "ACOUSTID_NETWORK_ERROR"}
        db = sqlite3.connect(root / "wkmp.db")
        assert db.execute("SELECT count(*) FROM passages").fetchone()[0] == 3  # local analysis kept
        assert db.execute("SELECT count(*) FROM passage_songs").fetchone()[0] == 0
        assert db.execute("SELECT DISTINCT status FROM wkmp_ai_identify_files").fetchall() == [("pending",)]
        analysed_at = db.execute("SELECT file_id, analysed_at FROM wkmp_ai_import_state").fetchall()

        status = _import_once(replace(online, port=free_port()))
        assert status["state"] == "COMPLETED"
        assert status["files_processed"] == 0 and status["files_identified"] == 3  # identified, not re-analysed
        assert db.execute("SELECT count(*) FROM passage_songs").fetchone()[0] == 3
        assert db.execute("SELECT DISTINCT status FROM wkmp_ai_identify_files").fetchall() == [("identified",)]
        assert db.execute("SELECT file_id, analysed_at FROM wkmp_ai_import_state").fetchall() == analysed_at


def _import_once(settings: Settings) -> dict[str, Any]:
    """Serve ``settings``, run one import of the root through the API, return its final status."""
    with running_server(settings) as server:
        session_id = server.post("/import/start", json={}).json()["session_id"]
        return wait_finished(server, session_id)


def test_other_readers_keep_working_during_an_import(live_server) -> None:  # type: ignore[no-untyped-def]
    """Another WKMP module reading wkmp.db in its own process sees no lock errors and no long waits."""
    root = live_server.settings.root_folder
    make_album(root, "Busy", 8, seconds=12.0)
    reader = (
        "import sqlite3, sys, time\n"
        "worst, reads, errors = 0.0, 0, 0\n"
        "end = time.monotonic() + float(sys.argv[2])\n"
        "while time.monotonic() < end:\n"
        "    t = time.monotonic()\n"
        "    try:\n"
        "        c = sqlite3.connect(sys.argv[1], timeout=0.2)\n"
        "        c.execute('SELECT count(*) FROM passages p JOIN files f ON f.guid = p.file_id').fetchone()\n"
        "        c.close(); reads += 1\n"
        "    except sqlite3.Error:\n"
        "        errors += 1\n"
        "    worst = max(worst, time.monotonic() - t)\n"
        "    time.sleep(0.01)\n"
        "print(reads, errors, worst)\n"
    )
    session_id = live_server.post("/import/start", json={}).json()["session_id"]
    while not (root / "wkmp.db").exists():
        time.sleep(0.01)
    proc = subprocess.run(
        [sys.executable, "-c", reader, str(root / "wkmp.db"), "6"], capture_output=True, text=True, timeout=60
    )
    status = wait_finished(live_server, session_id)
    reads, errors, worst = proc.stdout.split()
    assert status["state"] == "COMPLETED" and status["files_processed"] == 8
    assert int(errors) == 0 and int(reads) > 100
    assert float(worst) < 0.2


@pytest.mark.slow
def test_sigterm_to_the_service_cancels_the_import_and_exits_0(tmp_path: Path) -> None:
    root = tmp_path / "music"
    make_album(root, "Long", 20, seconds=30.0)
    port = free_port()
    env = offline_env(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "wkmp_ai", "serve", "--root", str(root), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        session_id = httpx.post(url + "/import/start", json={}).json()["session_id"]
        events: list[str] = []
        listener = threading.Thread(target=_listen, args=(url, session_id, events), daemon=True)
        listener.start()
        deadline = time.monotonic() + 90
        while httpx.get(f"{url}/import/status/{session_id}").json()["progress"]["current"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        proc.communicate(timeout=20)
        assert time.monotonic() - started < 5
        assert proc.returncode == 0
        listener.join(5)
        assert '"new_state": "CANCELLED"' in "".join(events)  # SSE clients were told before the end
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    conn = sqlite3.connect(root / "wkmp.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    analysed = conn.execute("SELECT count(*) FROM wkmp_ai_import_state").fetchone()[0]
    assert conn.execute("SELECT count(DISTINCT file_id) FROM passages").fetchone()[0] == analysed
    assert 1 <= analysed < 20


def _listen(url: str, session_id: str, sink: list[str]) -> None:
    try:
        with httpx.stream("GET", url + "/events", params={"session_id": session_id}, timeout=30) as response:
            for line in response.iter_lines():
                sink.append(line)
    except httpx.HTTPError:
        pass


def test_a_held_up_writer_lets_the_worker_run_ahead_by_two_files_only(live_server: LiveServer) -> None:
    """Another process holds wkmp.db's write lock for a while: the one worker takes its next file
    while the last one waits to be written, but stops once two files are waiting (2 × workers),
    and the import finishes whole when the lock goes."""
    root = live_server.settings.root_folder
    tracks = make_album(root, "Held", 8, seconds=6.0)
    session_id = live_server.post("/import/start", json={"parameters": {"import_parallelism": 1}}).json()["session_id"]
    deadline = time.monotonic() + 60
    while live_server.get(f"/import/status/{session_id}").json()["state"] != "PROCESSING":
        assert time.monotonic() < deadline
        time.sleep(0.005)
    blocker = sqlite3.connect(root / "wkmp.db", isolation_level=None, timeout=10)
    blocker.execute("BEGIN IMMEDIATE")  # the import's writer now waits (its busy timeout is 10 s)
    try:
        time.sleep(0.5)
        written = live_server.get(f"/import/status/{session_id}").json()["counts"]["succeeded"]
        time.sleep(2.5)  # a 6 s file takes well under 0.3 s to analyse: time for all eight
        held = live_server.get(f"/import/status/{session_id}").json()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert held["state"] == "PROCESSING" and held["counts"]["succeeded"] == written <= 2
    # Nothing is being analysed: the two files after the last one written wait for the writer.
    assert held["current_files"] == []
    assert held["current_operation"] == f"Processing: {tracks[written + 1].rel_path}"
    status = wait_finished(live_server, session_id)
    assert status["state"] == "COMPLETED" and status["counts"]["succeeded"] == 8
