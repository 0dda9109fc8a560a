"""Import sessions through the real HTTP API and the real pipeline (no identification services:
every service URL points at a closed port, so identification degrades to warnings)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.ingest.library import make_album


def wait_finished(server: LiveServer, session_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = server.get(f"/import/status/{session_id}").json()
        if status["state"] in {"COMPLETED", "CANCELLED", "FAILED"}:
            return status
        time.sleep(0.1)
    raise AssertionError("import did not finish")


def rows(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def test_import_runs_to_completion_and_writes_rows(live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    tracks = make_album(root, "Artist/Album", 3, formats=("flac", "wav", "mp3"))
    (root / "Artist/Album/notes.mp3").write_text("this is not audio " * 50)
    started = time.monotonic()
    reply = live_server.post("/import/start", json={"root_folder": str(root / "Artist")})
    assert time.monotonic() - started < 0.5
    assert reply.status_code == 202
    body = reply.json()
    assert body["state"] == "SCANNING" and len(body["session_id"]) == 36 and body["started_at"].endswith("Z")
    status = wait_finished(live_server, body["session_id"])
    assert status["state"] == "COMPLETED", status
    assert status["files_processed"] == 3 and status["files_failed"] == 0
    assert status["progress"] == {"current": 3, "total": 3, "percentage": 100.0}
    assert status["passages_created"] == 3
    db = root / "wkmp.db"
    paths = {r[0] for r in rows(db, "SELECT path FROM files")}
    assert paths == {t.rel_path for t in tracks}
    passages = rows(db, "SELECT f.path, p.title, p.artist, p.album FROM passages p JOIN files f ON f.guid = p.file_id")
    assert sorted(passages) == sorted(
        (t.rel_path, f"Track {i + 1}", "Test Artist", "Album") for i, t in enumerate(tracks)
    )
    # identification could not reach any service: warnings, not failures
    assert {e["severity"] for e in status["errors"]} == {"warning"}


def test_empty_folder_completes_at_once(live_server: LiveServer) -> None:
    (live_server.settings.root_folder / "empty").mkdir()
    started = time.monotonic()
    body = live_server.post("/import/start", json={"root_folder": "empty"}).json()
    status = wait_finished(live_server, body["session_id"])
    assert status["state"] == "COMPLETED"
    assert status["files_processed"] == 0 and status["passages_created"] == 0
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("folder", "reason"),
    [
        ("/etc", "outside the root"),
        ("../", "outside the root"),
        ("missing", "not a folder"),
        ("file.txt", "not a folder"),
    ],
)
def test_bad_root_folder_is_400(live_server: LiveServer, folder: str, reason: str) -> None:
    (live_server.settings.root_folder / "file.txt").write_text("x")
    reply = live_server.post("/import/start", json={"root_folder": folder})
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_root_folder" and reason in reply.json()["message"]


def test_bad_parameters_are_400_and_start_nothing(live_server: LiveServer) -> None:
    reply = live_server.post("/import/start", json={"parameters": {"import_parallelism": 0, "x": 1}})
    assert reply.status_code == 400
    assert set(reply.json()["errors"]) == {"import_parallelism", "x"}
    assert live_server.get("/import/history").json()["imports"] == []  # no session was started


def test_unknown_sessions_are_404(live_server: LiveServer) -> None:
    assert live_server.get("/import/status/00000000-0000-4000-8000-000000000000").status_code == 404
    assert live_server.post("/import/cancel/00000000-0000-4000-8000-000000000000").status_code == 404
    assert live_server.get("/events", params={"session_id": "nope"}).status_code == 404


def test_second_start_is_409_with_the_active_id(live_server: LiveServer) -> None:
    make_album(live_server.settings.root_folder, "A", 2)
    first = live_server.post("/import/start", json={}).json()
    second = live_server.post("/import/start", json={})
    assert second.status_code == 409
    assert second.json()["active_session_id"] == first["session_id"]
    wait_finished(live_server, first["session_id"])
    again = live_server.post("/import/start", json={})
    assert again.status_code == 202  # allowed once the first has finished
    wait_finished(live_server, again.json()["session_id"])


def test_cancel_stops_within_2_seconds_and_leaves_no_half_file(live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    make_album(root, "Big", 16, seconds=25.0)
    session_id = live_server.post("/import/start", json={}).json()["session_id"]
    deadline = time.monotonic() + 60
    while live_server.get(f"/import/status/{session_id}").json()["progress"]["current"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    reply = live_server.post(f"/import/cancel/{session_id}")
    elapsed = time.monotonic() - started
    assert reply.status_code == 200
    body = reply.json()
    assert body["state"] == "CANCELLED" and body["cancelled_at"]
    assert elapsed < 2.0
    assert 2 <= body["files_processed"] < 16
    db = root / "wkmp.db"
    done = rows(db, "SELECT file_id, passages FROM wkmp_ai_import_state WHERE status = 'analysed'")
    with_passages = rows(db, "SELECT file_id, count(*) FROM passages GROUP BY file_id")
    assert sorted(done) == sorted(with_passages)  # every analysed file whole, no passages elsewhere
    assert len(done) == body["files_processed"]
    time.sleep(1.0)
    assert rows(db, "SELECT count(*) FROM passages") == [(sum(n for _, n in done),)]  # nothing written after
    assert live_server.post(f"/import/cancel/{session_id}").status_code == 409


def read_sse(url: str, *, params: dict[str, Any], headers: dict[str, str] | None = None, limit: float = 120):
    """Every (event, id, data) of one SSE stream until the server closes it."""
    events = []
    with httpx.stream("GET", url, params=params, headers=headers or {}, timeout=limit) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event: dict[str, Any] = {}
        for line in response.iter_lines():
            if not line:
                if "data" in event:
                    events.append((event.get("event"), event.get("id"), json.loads(event["data"])))
                event = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(":")
                event[key] = value.lstrip(" ")
    return events


def test_sse_follows_a_session_to_completed_and_replays_on_reconnect(live_server: LiveServer) -> None:
    make_album(live_server.settings.root_folder, "S", 4)
    session_id = live_server.post("/import/start", json={}).json()["session_id"]
    events = read_sse(live_server.url + "/events", params={"session_id": session_id})
    assert events[0][0] == "connected"
    kinds = [e[0] for e in events[1:]]
    assert kinds[-1] == "completed"
    assert all(e[2]["type"] == e[0] for e in events)
    states = [(e[2]["old_state"], e[2]["new_state"]) for e in events if e[0] == "state_changed"]
    assert states == [(None, "SCANNING"), ("SCANNING", "PROCESSING"), ("PROCESSING", "COMPLETED")]
    ids = [int(e[1]) for e in events[1:]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    currents = [e[2]["current"] for e in events if e[0] == "progress"]
    assert currents == sorted(currents) and currents[-1] == 4
    assert all(e[2]["total"] == 4 for e in events if e[0] == "progress")
    completed = events[-1][2]
    assert completed["files_processed"] == 4 and completed["files_failed"] == 0
    assert "error_summary" in completed and completed["duration_seconds"] > 0

    # Reconnect after the third event: exactly the later ones, no duplicates.
    third = ids[2]
    replay = read_sse(
        live_server.url + "/events", params={"session_id": session_id}, headers={"Last-Event-ID": str(third)}
    )
    assert replay[0][0] == "connected"
    assert [int(e[1]) for e in replay[1:]] == [i for i in ids if i > third]
