"""SIGTERM ends ``serve`` and ``import`` within 5 s whatever a thread is doing (issue 16, finding 3).

Two ways a thread gets stuck where Python cannot interrupt it: a FIFO named ``cover.jpg`` (opening
it waited for a writer for ever), and another program holding a write lock on ``wkmp.db`` (the
writer thread waits in SQLite for its busy timeout). Either way the process must end in time and
leave an intact database.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.hardening.procs import db_check, serve, start_import, stop, wait_state
from tests.ingest.library import make_album

pytestmark = pytest.mark.slow


def _sigterm_and_time(proc) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        _out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        stop(proc)
        raise AssertionError("the process was still running 20 s after SIGTERM") from None
    return time.monotonic() - started, err or ""


def _lock(db: Path) -> sqlite3.Connection:
    """Another program takes the write lock on wkmp.db and keeps it."""
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def test_serve_with_a_fifo_cover_stops_on_sigterm(tmp_path: Path) -> None:
    root = tmp_path / "music"
    make_album(root, "Album", 3, seconds=3.0)
    os.mkfifo(root / "Album" / "cover.jpg")
    with serve(root, tmp_path) as served:
        session_id = served.start_import()
        time.sleep(1.5)  # the scan has reached the folder image
        elapsed, err = _sigterm_and_time(served.proc)
        assert elapsed < 5.0, err
        assert served.proc.returncode == 0, err  # nothing was stuck: a clean stop
    db_check(root / "wkmp.db")
    del session_id


def test_serve_with_its_writer_blocked_by_another_program_stops_on_sigterm(tmp_path: Path) -> None:
    root = tmp_path / "music"
    make_album(root, "Album", 24, seconds=4.0)
    with serve(root, tmp_path) as served:
        session_id = served.start_import()
        wait_state(served, session_id, lambda s: s["progress"]["current"] >= 1)
        holder = _lock(root / "wkmp.db")
        try:
            time.sleep(1.0)  # the next file's write is now waiting for the lock
            elapsed, err = _sigterm_and_time(served.proc)
        finally:
            holder.rollback()
            holder.close()
        assert elapsed < 5.0, err
    db_check(root / "wkmp.db")


def test_import_with_its_writer_blocked_by_another_program_stops_on_sigterm(tmp_path: Path) -> None:
    root = tmp_path / "music"
    make_album(root, "Album", 24, seconds=4.0)
    proc = start_import(root, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the first file to be written
            assert time.monotonic() < deadline and proc.poll() is None, "the import did not get going"
            try:
                with sqlite3.connect(root / "wkmp.db", timeout=1) as conn:
                    if conn.execute("SELECT count(*) FROM wkmp_ai_import_state").fetchone()[0]:
                        break
            except sqlite3.OperationalError:
                pass  # not created yet
            time.sleep(0.05)
        holder = _lock(root / "wkmp.db")
        try:
            time.sleep(1.0)
            elapsed, err = _sigterm_and_time(proc)
        finally:
            holder.rollback()
            holder.close()
    finally:
        stop(proc)
    assert elapsed < 5.0, err
    assert proc.returncode != 0  # cancelled is not success
    db_check(root / "wkmp.db")
