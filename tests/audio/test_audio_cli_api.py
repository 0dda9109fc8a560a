"""``wkmp-ai analyze`` as a user runs it, and ``POST /analyze/amplitude`` over a real socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audio.conftest import THREE_SONGS_PASSAGES, three_songs
from tests.conftest import LiveServer
from tests.synth import fade, tone, write_audio
from wkmp_ai.db import Database
from wkmp_ai.db.settings import load_import_parameters, save_import_parameters

SR = 44100


def run_cli(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "xdg"), "HOME": str(tmp)}
    env.pop("WKMP_ROOT", None)
    command = [sys.executable, "-m", "wkmp_ai", "analyze", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    songs = write_audio(folder / "songs.flac", three_songs(SR), sr=SR, fmt="flac")
    faded = write_audio(folder / "faded.mp3", fade(tone(12.0, sr=SR), sr=SR, fade_in_s=3.0), sr=SR, fmt="mp3")
    broken = folder / "broken.ogg"
    broken.write_bytes(b"OggS" + bytes(300))
    return {"songs": songs, "faded": faded, "broken": broken}


def test_analyze_json_one_line_per_file_and_exit_2_on_failure(files: dict[str, Path], tmp_path: Path) -> None:
    out = run_cli("--json", str(files["songs"]), str(files["broken"]), str(files["faded"]), tmp=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(files["songs"]), str(files["broken"]), str(files["faded"])]
    songs, broken, faded = lines
    assert [(p["start_s"], p["end_s"]) for p in songs["passages"]] == THREE_SONGS_PASSAGES
    assert all(p["flavor"]["source"] == "essentia" for p in songs["passages"])
    assert broken["error_code"] == "DECODE_ERROR" and broken["error_message"]
    assert broken["passages"] == []
    assert faded["format"] == "mp3" and faded["passages"][0]["lead_in_s"] == pytest.approx(3.0, abs=0.1)
    assert "Traceback" not in out.stderr


def test_analyze_no_flavor_and_exit_0(files: dict[str, Path], tmp_path: Path) -> None:
    out = run_cli("--json", "--no-flavor", str(files["songs"]), tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    (line,) = [json.loads(text) for text in out.stdout.splitlines()]
    assert all(p["flavor"] is None for p in line["passages"])
    assert all(p["fingerprint"] for p in line["passages"])


def test_analyze_human_output(files: dict[str, Path], tmp_path: Path) -> None:
    out = run_cli("--no-flavor", str(files["songs"]), str(files["broken"]), tmp=tmp_path)
    assert out.returncode == 2
    assert "3 passage(s)" in out.stdout and "lead-in" in out.stdout
    assert f"{files['broken']}: Cannot be decoded (DECODE_ERROR): " in out.stderr  # plain words, and the code


def test_analyze_names_a_warning_in_plain_words_and_by_its_code(tmp_path: Path) -> None:
    clipped = tmp_path / "clipped.flac"
    write_audio(clipped, tone(20.0, amplitude=1.6).clip(-1, 1), sr=44100, fmt="flac")  # a sine driven into clipping
    out = run_cli("--no-flavor", str(clipped), tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "  warning (passage 1): Clipping (CLIPPING_DETECTED): " in out.stdout, out.stdout


def test_analyze_uses_the_roots_stored_parameters(files: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "root"
    db = stored_parameters(root, {"min_passage_duration_s": 10.0})
    db.close()
    out = run_cli("--json", "--no-flavor", "--root", str(root), str(files["songs"]), tmp=tmp_path)
    (line,) = [json.loads(text) for text in out.stdout.splitlines()]
    assert len(line["passages"]) == 1  # every 7-8 s candidate is now "short": they all merge
    meta_root = run_cli(
        "--json", "--no-flavor", "--root", str(tmp_path / "no-such-root"), str(files["songs"]), tmp=tmp_path
    )
    assert len(json.loads(meta_root.stdout)["passages"]) == 3
    assert not (tmp_path / "no-such-root").exists()  # analyze never creates a database


def stored_parameters(root: Path, changes: dict) -> Database:
    from wkmp_ai.db import open_database

    db = open_database(root / "wkmp.db")
    with db.write() as conn:
        values, _ = load_import_parameters(conn)
        save_import_parameters(conn, {**values, **changes})
    return db


# --- POST /analyze/amplitude --------------------------------------------------------------------


def test_amplitude_endpoint(live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    signal = fade(tone(12.0, sr=SR, freq=1000.0), sr=SR, fade_in_s=3.0, fade_out_s=2.0)
    write_audio(root / "fade.flac", signal, sr=SR, fmt="flac")
    response = live_server.post("/analyze/amplitude", json={"file_path": "fade.flac", "start_time": 0.0})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lead_in_duration"] == pytest.approx(3.0, abs=0.1)
    assert body["lead_out_duration"] == pytest.approx(2.0, abs=0.1)
    assert body["quick_ramp_up"] is False and body["peak_rms"] == pytest.approx(0.3536, abs=0.005)
    assert len(body["rms_profile"]) == pytest.approx(120, abs=1) and body["rms_profile_interval_s"] == 0.1
    assert body["analyzed_at"].endswith("Z") and body["warnings"] == []
    # A range, with parameters for this call only, by absolute path.
    response = live_server.post(
        "/analyze/amplitude",
        json={
            "file_path": str(root / "fade.flac"),
            "start_time": 1.0,
            "end_time": 6.0,
            "parameters": {"rms_window_ms": 200},
        },
    )
    body = response.json()
    assert response.status_code == 200 and (body["start_time"], body["end_time"]) == (1.0, 6.0)
    assert len(body["rms_profile"]) == pytest.approx(25, abs=1)
    assert live_server.get("/parameters/global").json()["rms_window_ms"] == 100  # nothing was saved


def test_amplitude_endpoint_refusals(live_server: LiveServer, tmp_path: Path) -> None:
    root = live_server.settings.root_folder
    outside = write_audio(tmp_path / "outside.flac", tone(2.0, sr=SR), sr=SR, fmt="flac")
    (root / "junk.flac").write_bytes(b"not audio")
    write_audio(root / "ok.flac", tone(2.0, sr=SR), sr=SR, fmt="flac")
    cases = [
        ({"file_path": str(outside)}, 400, "PATH_OUTSIDE_ROOT"),
        ({"file_path": "../outside.flac"}, 400, "PATH_OUTSIDE_ROOT"),
        ({"file_path": "missing.flac"}, 404, "not_found"),
        ({"file_path": "junk.flac"}, 422, "DECODE_ERROR"),
        ({"file_path": "ok.flac", "parameters": {"rms_window_ms": 0}}, 400, "invalid_parameters"),
        ({"file_path": "ok.flac", "start_time": 5.0}, 400, "invalid_request"),
        ({"file_path": "ok.flac", "start_time": 1.5, "end_time": 1.0}, 400, "invalid_request"),
        ({"file_path": "ok.flac", "start_time": -1.0}, 400, "invalid_request"),
    ]
    for body, status, code in cases:
        response = live_server.post("/analyze/amplitude", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"] == code, body
