"""The API behind the import wizard and the progress page (issue 14): the folder browser, the
services' status, the import history, the all-imports event stream and the phases of an import."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import replace
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, running_server
from tests.fakes import FakeServices, World
from tests.ingest.library import make_album
from wkmp_ai.config import Settings


def wait_finished(server: LiveServer, session_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = server.get(f"/import/status/{session_id}").json()
        if status["state"] in ("COMPLETED", "CANCELLED", "FAILED"):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def wait_history(server: LiveServer, session_id: str, timeout: float = 10) -> dict[str, Any]:
    """The history entry of a finished session (written just after its ``completed`` event)."""
    deadline = time.monotonic() + timeout
    while True:
        for entry in server.get("/import/history").json()["imports"]:
            if entry["session_id"] == session_id and entry["finished_at"]:
                return entry
        assert time.monotonic() < deadline
        time.sleep(0.05)


# ---- GET /folders ------------------------------------------------------------------------------
def test_folders_lists_subfolders_with_audio_counts(live_server: LiveServer, tmp_path: Any) -> None:
    root = live_server.settings.root_folder
    for rel in ("Beatles/Abbey Road/01.flac", "Beatles/Abbey Road/02.mp3", "Beatles/Help/01.ogg", "abba/x.m4a"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    (root / "Beatles/notes.txt").write_text("not audio")
    (root / ".hidden").mkdir()
    (root / "file.flac").write_bytes(b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link-out").symlink_to(outside)

    def listing(path: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while True:
            reply = live_server.get("/folders", params={"path": path})
            assert reply.status_code == 200, reply.text
            body = reply.json()
            counts = [body["audio_files"], *(f["audio_files"] for f in body["folders"])]
            if None not in counts:  # counting runs in the background; null means "still counting"
                return body
            assert time.monotonic() < deadline
            time.sleep(0.1)

    top = listing("")
    assert top["path"] == "" and top["parent"] is None and top["audio_files"] == 5
    assert [(f["name"], f["path"], f["audio_files"]) for f in top["folders"]] == [
        ("abba", "abba", 1),
        ("Beatles", "Beatles", 3),
    ]  # sorted case-insensitively; hidden folders and links leading outside the root are not offered
    beatles = listing("Beatles")
    assert beatles["parent"] == "" and beatles["audio_files"] == 3
    assert [(f["name"], f["path"], f["audio_files"]) for f in beatles["folders"]] == [
        ("Abbey Road", "Beatles/Abbey Road", 2),
        ("Help", "Beatles/Help", 1),
    ]
    assert listing("Beatles/Help")["parent"] == "Beatles"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("..", "outside the root folder"),
        ("/etc", "outside the root folder"),
        ("link-out", "outside the root folder"),
        ("missing", "is not a folder"),
        ("file.flac", "is not a folder"),
        ("a\x00b", "NUL"),
        ("x" * 300, "too long"),
    ],
)
def test_folders_refuses_what_is_not_a_folder_inside_the_root(
    live_server: LiveServer, tmp_path: Any, path: str, message: str
) -> None:
    root = live_server.settings.root_folder
    (root / "file.flac").write_bytes(b"x")
    (tmp_path / "outside").mkdir()
    (root / "link-out").symlink_to(tmp_path / "outside")
    reply = live_server.get("/folders", params={"path": path})
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == "invalid_folder" and message in reply.json()["message"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_folder_is_400(live_server: LiveServer) -> None:  # pragma: no cover - CI runs as root
    locked = live_server.settings.root_folder / "locked"
    locked.mkdir(mode=0)
    assert live_server.get("/folders", params={"path": "locked"}).status_code == 400


# ---- GET /services/status ----------------------------------------------------------------------
def test_service_status_offline_and_without_a_key(live_server: LiveServer) -> None:
    status = live_server.get("/services/status").json()
    assert set(status) == {"acoustid", "musicbrainz", "acousticbrainz", "coverart"}
    for name, entry in status.items():
        assert entry["reachable"] is False, name  # every URL points at a port refusing connections
        assert entry["url"] == getattr(live_server.settings, f"{name}_url")
        assert entry["checked_at"] and entry["rate_per_s"] > 0
    assert status["acoustid"]["api_key_set"] is False
    assert status["musicbrainz"]["rate_per_s"] == live_server.settings.musicbrainz_rate


def test_service_status_with_reachable_services_and_a_key_never_shows_the_key(settings: Settings) -> None:
    with FakeServices(World()) as fakes:
        changes = fakes.settings_changes()
        with running_server(replace(settings, **changes)) as server:
            started = time.monotonic()
            reply = server.get("/services/status")
            assert time.monotonic() - started < 3.0  # a short timeout, whatever the services do
            status = reply.json()
            assert all(entry["reachable"] is True for entry in status.values()), status
            assert status["acoustid"]["api_key_set"] is True
            assert fakes.api_key not in reply.text
            first = status["musicbrainz"]["checked_at"]
            count = fakes.musicbrainz.count()
            again = server.get("/services/status").json()
            assert again["musicbrainz"]["checked_at"] == first  # cached for a minute: not probed again
            assert fakes.musicbrainz.count() == count


# ---- GET /import/history, /import/active -------------------------------------------------------
def test_history_survives_a_restart_and_lists_what_came_out(settings: Settings) -> None:
    make_album(settings.root_folder, "Artist/Album", 2, seconds=4.0)
    with running_server(settings) as server:
        assert server.get("/import/history").json() == {"imports": []}
        assert server.get("/import/active").json() == {"active": None}
        started = server.post(
            "/import/start", json={"root_folder": "Artist", "parameters": {"min_silence_duration_ms": 700}}
        ).json()
        active = server.get("/import/active").json()["active"]
        assert active is None or active["session_id"] == started["session_id"]  # it may already be done
        wait_finished(server, started["session_id"])
        entry = wait_history(server, started["session_id"])
    with running_server(settings) as server:
        after = server.get("/import/history", params={"limit": 5}).json()["imports"]
    assert after == [entry | {"status_available": False}]  # the session itself is forgotten
    assert entry["folder"] == "Artist" and entry["state"] == "COMPLETED"
    assert entry["parameters"]["min_silence_duration_ms"] == 700
    assert entry["summary"]["files_processed"] == 2 and entry["summary"]["passages_created"] == 2
    attention = entry["attention"]
    # offline: both files are analysed and wait for identification by a later import
    assert attention["pending"]["count"] == 2
    assert sorted(f["path"] for f in attention["pending"]["files"]) == [
        "Artist/Album/01 Track 1.flac",
        "Artist/Album/02 Track 2.flac",
    ]
    assert all(f["file_id"] and f["passages"] == 1 for f in attention["pending"]["files"])
    assert attention["identified"]["count"] == 0 and attention["failed"]["count"] == 0


def test_history_is_newest_first_and_limited(live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    ids = []
    for name in ("one", "two", "three"):
        (root / name).mkdir()
        ids.append(live_server.post("/import/start", json={"root_folder": name}).json()["session_id"])
        wait_finished(live_server, ids[-1])
        wait_history(live_server, ids[-1])
    listed = live_server.get("/import/history", params={"limit": 2}).json()["imports"]
    assert [e["session_id"] for e in listed] == [ids[2], ids[1]]
    assert live_server.get("/import/history", params={"limit": 0}).status_code == 400
    assert live_server.get("/import/history", params={"limit": 101}).status_code == 400


def test_an_import_killed_mid_way_shows_as_interrupted(settings: Settings) -> None:
    with running_server(settings):
        pass  # creates the schema
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute(
            "INSERT INTO wkmp_ai_import_history(session_id, folder, state, started_at, parameters) "
            "VALUES ('dead', 'x', 'PROCESSING', '2026-01-01T00:00:00Z', '{}')"
        )
    with running_server(settings) as server:
        (entry,) = server.get("/import/history").json()["imports"]
    assert entry["state"] == "INTERRUPTED" and entry["finished_at"]


# ---- GET /events without a session -------------------------------------------------------------
class EventReader:
    """Reads ``GET /events`` (all imports) in a thread; ``events`` fills as frames arrive."""

    def __init__(self, server: LiveServer):
        self.events: list[dict[str, Any]] = []
        self.status: int | None = None
        self._server = server
        self._stop = threading.Event()
        self._reply: httpx.Response | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with (
                httpx.Client(base_url=self._server.url, timeout=30) as client,
                client.stream("GET", "/events") as reply,
            ):
                self.status = reply.status_code
                self._reply = reply
                for line in reply.iter_lines():
                    if line.startswith("data:"):
                        self.events.append(json.loads(line[5:]))
        except httpx.HTTPError:
            if not self._stop.is_set():
                raise

    def wait_for(self, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if predicate(event):
                    return event
            time.sleep(0.05)
        raise AssertionError(f"no such event among {[e['type'] for e in self.events]}")

    def close(self) -> None:
        """Hang up (the stream itself never ends)."""
        self._stop.set()
        if self._reply is not None:
            self._reply.close()
        self._thread.join(timeout=10)


def test_events_without_a_session_follow_every_import(live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    make_album(root, "First", 2, seconds=4.0)
    (root / "Second").mkdir()
    reader = EventReader(live_server)
    try:
        connected = reader.wait_for(lambda e: e["type"] == "connected", timeout=10)
        assert reader.status == 200 and connected["session_id"] is None  # nothing running: it waits
        first = live_server.post("/import/start", json={"root_folder": "First"}).json()["session_id"]
        done = reader.wait_for(lambda e: e["type"] == "completed" and e["session_id"] == first)
        assert done["state"] == "COMPLETED" and done["files_processed"] == 2
        second = live_server.post("/import/start", json={"root_folder": "Second"}).json()["session_id"]
        reader.wait_for(lambda e: e["type"] == "completed" and e["session_id"] == second)
    finally:
        reader.close()
    progress = [e for e in reader.events if e["type"] == "progress" and e["session_id"] == first]
    assert progress, "progress events carry the phases"
    for event in progress:
        assert event["phase"] in ("scanning", "analysis", "identification", "finished")
        assert set(event["phases"]) == {"scanning", "analysis", "identification"}
    overall = [e["overall_percentage"] for e in progress]
    assert overall == sorted(overall) and all(0 <= p < 100 for p in overall[:-1])


def all_imports_frames(
    server: LiveServer, until: Any, last_event_id: str | None = None, on_connected: Any = None
) -> tuple[int, list[tuple[str | None, dict[str, Any]]]]:
    """Frames (id, data) of ``GET /events`` (all imports) until ``until(data)``; then hang up.
    ``on_connected()`` runs once the stream is open (what it starts cannot be missed)."""
    frames: list[tuple[str | None, dict[str, Any]]] = []
    headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
    with (
        httpx.Client(base_url=server.url, timeout=30) as client,
        client.stream("GET", "/events", headers=headers) as reply,
    ):
        if reply.status_code != 200:
            return reply.status_code, frames
        frame_id: str | None = None
        for line in reply.iter_lines():
            if line.startswith("id:"):
                frame_id = line[3:].strip()
            elif line.startswith("data:"):
                frames.append((frame_id, json.loads(line[5:])))
                frame_id = None
                if frames[-1][1]["type"] == "connected" and on_connected is not None:
                    on_connected()
                if until(frames[-1][1]):
                    break
    return 200, frames


def test_the_all_imports_stream_resumes_where_the_client_left_it_without_repeating(
    live_server: LiveServer,
) -> None:
    """A reconnect with Last-Event-ID gets what it missed, nothing twice (docs/design.md, *HTTP API*).
    The frames of the all-imports stream name their session (``<session>:<n>``); a client that left
    in the middle of one import and comes back after two more ran gets the rest of the first, then
    the second and the third."""
    root = live_server.settings.root_folder
    make_album(root, "First", 2, seconds=4.0)
    make_album(root, "Second", 1, seconds=4.0, seed=3)
    make_album(root, "Third", 1, seconds=4.0, seed=5)
    first = live_server.post("/import/start", json={"root_folder": "First"}).json()["session_id"]
    wait_finished(live_server, first)
    # A finished import is not replayed to a new subscriber: the stream waits for the next one.
    started: list[str] = []

    def start_second() -> None:
        started.append(live_server.post("/import/start", json={"root_folder": "Second"}).json()["session_id"])

    status, whole = all_imports_frames(
        live_server, lambda d: d["type"] == "completed" and d["session_id"] in started, on_connected=start_second
    )
    (second,) = started
    assert status == 200 and whole[0][1]["type"] == "connected"
    ids = [frame_id for frame_id, _data in whole[1:]]
    assert ids == [f"{second}:{n}" for n in range(1, len(ids) + 1)]  # every event, numbered in order

    # Left after the first's third event, back once the second and then a third had run.
    third = live_server.post("/import/start", json={"root_folder": "Third"}).json()["session_id"]
    wait_finished(live_server, third)

    def numbers(session_id: str) -> list[int]:
        history = live_server.get("/events", params={"session_id": session_id}).text
        return [int(line[3:]) for line in history.splitlines() if line.startswith("id:")]

    status, resumed = all_imports_frames(
        live_server,
        lambda d: d["type"] == "completed" and d["session_id"] == third,
        last_event_id=f"{first}:3",
    )
    assert status == 200 and resumed[0][1]["type"] == "connected"
    got = [frame_id for frame_id, _data in resumed[1:]]
    rest_of_first = [f"{first}:{n}" for n in numbers(first) if n > 3]
    assert got == rest_of_first + ids + [f"{third}:{n}" for n in numbers(third)]  # in the order they ran
    assert [d["type"] for _id, d in resumed[1:]].count("completed") == 3

    # An id of an import no longer kept counts as none; one of another form is refused.
    status, fresh = all_imports_frames(live_server, lambda d: d["type"] == "connected", last_event_id="feed-1:4")
    assert status == 200 and len(fresh) == 1
    assert all_imports_frames(live_server, lambda d: True, last_event_id="First:4")[0] == 400
    assert all_imports_frames(live_server, lambda d: True, last_event_id="7")[0] == 200  # a session's own: none


def test_status_carries_the_phases(live_server: LiveServer) -> None:
    make_album(live_server.settings.root_folder, "Album", 3, seconds=4.0)
    session_id = live_server.post("/import/start", json={"root_folder": "Album"}).json()["session_id"]
    status = wait_finished(live_server, session_id)
    assert status["phase"] == "finished" and status["overall_percentage"] == 100.0
    phases = status["phases"]
    assert phases["scanning"]["files_found"] == 3 and phases["scanning"]["files_read"] == 3
    assert phases["analysis"]["done"] == phases["analysis"]["total"] == 3
    ident = phases["identification"]
    assert ident["albums_done"] == ident["albums_total"] == 1  # one folder, one album tag
    assert ident["requests_waiting"] == 0 and set(ident["waiting_by_service"]) == {
        "acoustid",
        "musicbrainz",
        "acousticbrainz",
        "coverart",
    }
    assert status["last_event_id"] >= 1
