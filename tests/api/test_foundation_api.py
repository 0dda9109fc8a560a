"""The HTTP API through a real uvicorn server: health, parameters, errors, OpenAPI."""

from __future__ import annotations

import json
import sqlite3

from tests.conftest import LiveServer


def test_health(live_server: LiveServer) -> None:
    reply = live_server.get("/health")
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "healthy" and body["module"] == "audio_ingest"
    assert body["version"] and body["uptime_seconds"] >= 0


def test_unknown_route_is_json_404(live_server: LiveServer) -> None:
    reply = live_server.get("/nonexistent")
    assert reply.status_code == 404
    assert reply.json() == {"error": "Not Found", "path": "/nonexistent"}
    assert live_server.get("/health").status_code == 200


def test_openapi(live_server: LiveServer) -> None:
    spec = live_server.get("/openapi.json").json()
    assert spec["info"]["title"] == "wkmp-ai"
    assert {"/health", "/parameters/global"} <= set(spec["paths"])


def test_get_parameters_returns_every_key(live_server: LiveServer) -> None:
    body = live_server.get("/parameters/global").json()
    assert len(body) == 14
    assert body["rms_window_ms"] == 100 and body["apply_a_weighting"] is True


def test_post_parameters_merges_and_persists(live_server: LiveServer) -> None:
    reply = live_server.post("/parameters/global", json={"lead_in_threshold_db": -10.0, "max_lead_in_duration_s": 6})
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "updated"
    assert body["parameters"]["lead_in_threshold_db"] == -10.0
    assert body["parameters"]["max_lead_in_duration_s"] == 6.0
    assert body["parameters"]["rms_window_ms"] == 100
    assert live_server.get("/parameters/global").json() == body["parameters"]
    stored = sqlite3.connect(live_server.settings.db_path).execute(
        "SELECT value FROM settings WHERE key='import_parameters'"
    )
    assert json.loads(stored.fetchone()[0]) == body["parameters"]


def test_post_invalid_parameters_is_400_per_key_and_saves_nothing(live_server: LiveServer) -> None:
    before = live_server.get("/parameters/global").json()
    reply = live_server.post(
        "/parameters/global",
        json={"rms_window_ms": 5, "lead_in_threshold_db": -10.0, "import_parallelism": "4", "nope": 1},
    )
    assert reply.status_code == 400
    errors = reply.json()["errors"]
    assert set(errors) == {"rms_window_ms", "import_parallelism", "nope"}
    assert "rms_window_ms" in errors["rms_window_ms"]
    assert live_server.get("/parameters/global").json() == before  # the valid key was not saved either


def test_post_parameters_that_are_not_an_object(live_server: LiveServer) -> None:
    for body in ("[1, 2]", '"text"', "{not json"):
        reply = live_server.post("/parameters/global", content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 400, body
        assert "error" in reply.json()


def test_source_media_preset_through_the_api(live_server: LiveServer) -> None:
    body = live_server.post("/parameters/global", json={"source_media": "cassette"}).json()
    assert body["parameters"]["silence_threshold_db"] == -50.0


def test_api_key_never_in_parameters(live_server: LiveServer) -> None:
    text = live_server.get("/parameters/global").text
    assert "acoustid" not in text.lower() and "api_key" not in text.lower()
