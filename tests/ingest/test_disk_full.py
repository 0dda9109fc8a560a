"""A full disk: before the database exists (a clear error, no traceback) and mid-import (the session
FAILS with DISK_FULL, committed files stay whole, the database stays sound, and once there is room
again the next run finishes the job)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import offline_env
from tests.ingest.library import make_album


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4M", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def wkmp(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wkmp_ai", *args], env=offline_env(tmp_path), capture_output=True, text=True, timeout=180
    )


def run_import(root: Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    proc = wkmp(tmp_path, "import", str(root), "--root", str(root), "--json")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def fill(disk: Path, leave_bytes: int) -> Path:
    free = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, free.f_bavail * free.f_frsize - leave_bytes))
    return filler


def test_no_room_for_the_database_is_a_clear_error(small_disk: Path, tmp_path: Path) -> None:
    root = small_disk / "music"
    make_album(root, "Album", 2, seconds=2.0)
    fill(small_disk, 0)
    code, summary = run_import(root, tmp_path)
    assert code == 1
    assert summary["state"] == "FAILED" and summary["error"]["code"] == "DISK_FULL"
    assert "disk is full" in summary["error"]["message"]


def test_disk_full_mid_import_fails_cleanly_and_a_later_run_finishes(small_disk: Path, tmp_path: Path) -> None:
    root = small_disk / "music"
    tracks = make_album(root, "Album", 12, seconds=2.0)
    assert wkmp(tmp_path, "params", "--root", str(root)).returncode == 0  # the schema is in place
    filler = fill(small_disk, 40 * 1024)  # room for some files' rows, not for all twelve

    code, summary = run_import(root, tmp_path)
    assert code != 0
    assert summary["state"] == "FAILED"
    assert summary["error_summary"].get("DISK_FULL", 0) >= 1
    db = root / "wkmp.db"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    analysed = conn.execute("SELECT count(*) FROM wkmp_ai_import_state").fetchone()[0]
    assert conn.execute("SELECT count(DISTINCT file_id) FROM passages").fetchone()[0] == analysed  # none half-done
    conn.close()

    filler.unlink()
    code, summary = run_import(root, tmp_path)
    assert code == 0 and summary["state"] == "COMPLETED", summary
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(DISTINCT file_id) FROM passages").fetchone()[0] == len(tracks)
    assert conn.execute("SELECT count(*) FROM passages").fetchone()[0] == len(tracks)
