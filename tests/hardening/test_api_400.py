"""Bad requests get 400 with a plain message, never 500 (issue 16, finding 5 and the Host check of 6).

Every case here answered 500 (or was silently accepted) before: paths too long for the OS, lone
surrogates in a path or a parameter key, infinite or huge times, odd ``Last-Event-ID`` values,
unknown keys in ``/import/start``, and ``Host`` headers that only start like ours.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.synth import tone, write_audio

LONG = "a" * 5000
LONG_NAME = "b" * 300  # one component longer than NAME_MAX
SURROGATE = "\udc80"  # a lone surrogate: valid in JSON text, not encodable as UTF-8


def post_json(server: LiveServer, path: str, body: Any) -> Any:
    """POST ``body`` serialised by Python's json (lone surrogates and Infinity pass through as JSON text)."""
    raw = json.dumps(body)
    return server.post(path, content=raw.encode(), headers={"content-type": "application/json"})


def assert_400(reply: Any) -> dict[str, Any]:
    assert reply.status_code == 400, (reply.status_code, reply.text[:300])
    body: dict[str, Any] = reply.json()
    assert body["error"] and isinstance(body.get("message", body["error"]), str)
    assert "Traceback" not in reply.text and "object at 0x" not in reply.text
    return body


@pytest.fixture
def audio(live_server: LiveServer) -> str:
    path = live_server.settings.root_folder / "one.wav"
    write_audio(path, tone(1.0), sr=44100, fmt="wav")
    return "one.wav"


@pytest.mark.parametrize("path", [LONG, LONG_NAME, f"dir/{LONG_NAME}.wav", SURROGATE, f"x{SURROGATE}.wav", "a\x00b"])
def test_unusable_file_paths_are_400(live_server: LiveServer, path: str) -> None:
    assert_400(post_json(live_server, "/analyze/amplitude", {"file_path": path}))
    assert_400(post_json(live_server, "/import/start", {"root_folder": path}))
    assert live_server.get("/import/history").json()["imports"] == []  # no session was started


@pytest.mark.parametrize("key", [SURROGATE, f"rms{SURROGATE}", LONG])
def test_unusable_parameter_keys_are_400(live_server: LiveServer, audio: str, key: str) -> None:
    body = assert_400(post_json(live_server, "/parameters/global", {key: 1}))
    assert "not a known parameter" in body["message"]
    assert_400(post_json(live_server, "/import/start", {"parameters": {key: 1}}))
    assert_400(post_json(live_server, "/analyze/amplitude", {"file_path": audio, "parameters": {key: 1}}))
    assert live_server.get("/import/history").json()["imports"] == []


@pytest.mark.parametrize(
    "times",
    [
        {"start_time": 1e308},
        {"end_time": 1e308},
        {"start_time": 0.0, "end_time": 1e300},
        {"start_time": float("inf")},
        {"end_time": float("inf")},
        {"start_time": float("-inf")},
        {"start_time": float("nan")},
        {"end_time": float("nan")},
        {"start_time": 2.0, "end_time": 1.0},
        {"start_time": 50.0},
    ],
    ids=repr,
)
def test_unusable_times_are_400(live_server: LiveServer, audio: str, times: dict[str, float]) -> None:
    assert_400(post_json(live_server, "/analyze/amplitude", {"file_path": audio, **times}))


def test_good_times_still_work(live_server: LiveServer, audio: str) -> None:
    reply = post_json(live_server, "/analyze/amplitude", {"file_path": audio, "start_time": 0.0, "end_time": 0.5})
    assert reply.status_code == 200, reply.text
    assert reply.json()["end_time"] == pytest.approx(0.5)


def test_unknown_keys_are_refused(live_server: LiveServer, audio: str) -> None:
    body = assert_400(post_json(live_server, "/import/start", {"root_folder": ".", "paramters": {}}))
    assert "paramters" in body["message"]
    assert live_server.get("/import/history").json()["imports"] == []  # the typo did not import the whole root
    assert_400(post_json(live_server, "/analyze/amplitude", {"file_path": audio, "start": 1.0}))


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-1", "1.5", "0x10", "１２", "1 2"])
def test_odd_last_event_ids_are_400(live_server: LiveServer, value: str) -> None:
    (live_server.settings.root_folder / "empty").mkdir()
    started = post_json(live_server, "/import/start", {"root_folder": "empty"}).json()
    deadline = time.monotonic() + 10
    while live_server.get(f"/import/status/{started['session_id']}").json()["state"] == "SCANNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    events = {"session_id": started["session_id"]}
    assert_400(live_server.get("/events", params=events, headers={"Last-Event-ID": value.encode()}))
    assert live_server.get("/events", params=events, headers={"Last-Event-ID": "3"}).status_code == 200


def raw_status(port: int, host: str) -> int:
    """Status of GET /health sent with exactly this Host header (no client rewrites it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        head = sock.recv(4096)
    return int(head.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:5799@evil.example",
        "[::1]evil.example",
        "[::1]:5723.evil.example",
        "localhost:80:80",
        "localhost:abc",
        "localhost:",
        "localhost@evil.example",
        "user@localhost",
        "[::1",
        "localhost.evil.example",
        "127.0.0.1.",
        "",
    ],
)
def test_host_header_is_parsed_strictly(live_server: LiveServer, host: str) -> None:
    assert raw_status(live_server.settings.port, host) == 400


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:5723", "127.0.0.1:1", "[::1]", "[::1]:5723"])
def test_our_own_names_still_pass(live_server: LiveServer, host: str) -> None:
    assert raw_status(live_server.settings.port, host) == 200


def test_file_path_that_is_a_folder_or_missing(live_server: LiveServer) -> None:
    (live_server.settings.root_folder / "sub").mkdir()
    assert post_json(live_server, "/analyze/amplitude", {"file_path": "sub"}).status_code == 404
    assert post_json(live_server, "/analyze/amplitude", {"file_path": "gone.wav"}).status_code == 404
