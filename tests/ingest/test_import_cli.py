"""``wkmp-ai import DIR`` as a user runs it: exit codes, the JSON summary, bad files, SIGTERM."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import offline_env
from tests.ingest.library import make_album, undecodable_flac


def run_import(root: Path, folder: Path, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "wkmp_ai", "import", str(folder), "--root", str(root), *args],
        env=offline_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_good_bad_and_untagged_files(tmp_path: Path) -> None:
    """The session completes; bad files are skipped, counted and reported."""
    root = tmp_path / "music"
    good = make_album(root, "Mixed", 5, seconds=5.0, formats=("flac", "mp3", "ogg"))
    make_album(root, "Mixed/untagged", 1, seconds=5.0, tags=False, seed=9)
    undecodable_flac(good[0].path, root / "Mixed/corrupt one.flac")
    undecodable_flac(good[0].path, root / "Mixed/corrupt two.flac", seed=1)
    (root / "Mixed/readme.mp3").write_text("not audio at all " * 30)
    proc = run_import(root, root / "Mixed", tmp_path, "--json")
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    summary = json.loads(out)  # stdout holds exactly one JSON object
    assert summary["state"] == "COMPLETED"
    assert summary["files_processed"] == 6 and summary["files_failed"] == 2
    assert summary["error_summary"]["DECODE_ERROR"] == 2
    failed = sorted(e["file_path"] for e in summary["errors"] if e["error_code"] == "DECODE_ERROR")
    assert failed == ["Mixed/corrupt one.flac", "Mixed/corrupt two.flac"]
    listed = summary["attention"]["failed"]["files"]  # each with its code, its label in plain words, its reason
    expected = [(path, "DECODE_ERROR", "Cannot be decoded") for path in failed]
    assert [(f["path"], f["code"], f["label"]) for f in listed] == expected
    assert all(f["reason"] for f in listed)
    assert all(e["timestamp"].endswith("Z") and e["error_message"] for e in summary["errors"])
    conn = sqlite3.connect(root / "wkmp.db")
    untagged = conn.execute(
        "SELECT title, artist, album FROM passages p JOIN files f ON f.guid = p.file_id "
        "WHERE f.path LIKE 'Mixed/untagged/%'"
    ).fetchall()
    assert untagged == [("Track 1", "Mixed", "untagged")]  # file and folder names stand in (Artist/Album/NN Title)
    assert conn.execute("SELECT count(*) FROM passages").fetchone()[0] == 6

    # A second run skips the unchanged corrupt files instead of failing them again.
    again = run_import(root, root / "Mixed", tmp_path, "--json")
    summary2 = json.loads(again.communicate(timeout=180)[0])
    assert again.returncode == 0
    assert summary2["files_total"] == 0 and summary2["files_failed"] == 0 and summary2["files_unchanged"] == 6


def test_human_summary_and_progress_to_stderr(tmp_path: Path) -> None:
    root = tmp_path / "music"
    make_album(root, "A", 2, seconds=4.0)
    proc = run_import(root, root, tmp_path)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert "Import COMPLETED" in out and "files processed" in out and "passages created" in out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_cancels_cleanly_with_nonzero_exit(tmp_path: Path, sig: signal.Signals) -> None:
    root = tmp_path / "music"
    make_album(root, "Long", 24, seconds=30.0)
    proc = run_import(root, root, tmp_path, "--json")
    db = root / "wkmp.db"
    deadline = time.monotonic() + 90
    while True:  # wait until at least one file is written
        if time.monotonic() >= deadline or proc.poll() is not None:
            proc.kill()
            _out, err = proc.communicate(timeout=30)  # closes the pipes; the failure shows the import's stderr
            raise AssertionError(f"no file written before exit code {proc.returncode} / the deadline: {err[-2000:]}")
        try:  # read-only: connecting must not create the database file before the import does
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            done = conn.execute("SELECT count(*) FROM wkmp_ai_import_state").fetchone()[0]
            conn.close()
        except sqlite3.OperationalError:
            done = 0
        if done:
            break
        time.sleep(0.1)
    proc.send_signal(sig)
    started = time.monotonic()
    out, _err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 5
    assert proc.returncode == 1
    summary = json.loads(out)
    assert summary["state"] == "CANCELLED"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    analysed = conn.execute("SELECT count(*) FROM wkmp_ai_import_state WHERE status = 'analysed'").fetchone()[0]
    assert conn.execute("SELECT count(DISTINCT file_id) FROM passages").fetchone()[0] == analysed
    assert 1 <= analysed < 24


AUDIO_STACK = ("numpy", "scipy", "av", "essentia")
CHECK_MODULES = f"""
import json, sys
from wkmp_ai.cli import main
code = main(sys.argv[1:])
print(json.dumps({{"code": code, "loaded": [m for m in {AUDIO_STACK!r} if m in sys.modules]}}))
"""


def test_the_importing_process_never_loads_the_audio_stack(tmp_path: Path) -> None:
    """The workers decode and analyse; the process that hashes, identifies and writes stays small."""
    root = tmp_path / "music"
    make_album(root, "Small", 2, seconds=3.0, formats=("flac", "mp3"))
    proc = subprocess.run(
        [sys.executable, "-c", CHECK_MODULES, "import", str(root / "Small"), "--root", str(root)],
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, proc.stderr
    assert report["loaded"] == []
    conn = sqlite3.connect(root / "wkmp.db")
    assert conn.execute("SELECT count(*) FROM passages").fetchone()[0] == 2  # the work was done, elsewhere


def _processes_with(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return found


def test_the_command_leaves_at_once_with_its_output_whole_and_no_process_behind(tmp_path: Path) -> None:
    """The command ends without the interpreter's teardown (wkmp_ai.cli.run): the JSON summary must
    still arrive whole through the pipe, the exit code must be the command's, and the forkserver and
    workers it started must not outlive it."""
    root = tmp_path / "music"
    make_album(root, "Small", 3, seconds=3.0, formats=("flac", "ogg", "mp3"))
    marker = f"WKMP_TEST_MARK_{time.monotonic_ns()}"
    proc = subprocess.run(
        [sys.executable, "-m", "wkmp_ai", "import", str(root / "Small"), "--root", str(root), "--json"],
        env=offline_env(tmp_path) | {marker: "1"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["state"] == "COMPLETED" and summary["files_processed"] == 3
    deadline = time.monotonic() + 5.0  # a forkserver notices its parent's end at its next read
    while (left := _processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == []

    refused = subprocess.run(  # a folder outside the root: the command's own exit code and message
        [sys.executable, "-m", "wkmp_ai", "import", str(tmp_path), "--root", str(root)],
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and "Choose a folder inside it" in refused.stderr
    assert "Traceback" not in refused.stderr
