"""Crash trials shared by the standing test and ``benchmarks/bench_crash.py``: ``kill -9`` of the
service, or of single analysis workers, at a random point of an import; then a restart and a re-import.

A trial passes when the database ends intact (``PRAGMA integrity_check``, ``foreign_key_check``) and
every file has exactly one complete set of rows (``tests.ingest.test_kill_resume.check_database``:
its passages, its analysed state, its identification, nothing twice).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from tests.hardening.procs import Served, db_check, serve, wait_state
from tests.ingest.library import Track
from tests.ingest.test_kill_resume import check_database

__all__ = ["Trial", "run_trial", "workers_of"]

FINISHED = {"COMPLETED", "CANCELLED", "FAILED"}


@dataclass
class Trial:
    kind: str  # "serve" or "worker"
    seed: int
    killed_at: str = ""  # where the kill landed: state and files done
    kills: int = 0
    seconds: float = 0.0


def workers_of(pid: int) -> list[psutil.Process]:
    """The analysis workers under process ``pid``: the children of its multiprocessing forkserver."""
    out: list[psutil.Process] = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "forkserver" in " ".join(child.cmdline()):
                out += child.children()
        except psutil.Error:
            continue
    return out


def _wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    """The processes a killed service leaves must exit by themselves (their pipes closed)."""
    deadline = time.monotonic() + timeout
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids):
        if time.monotonic() > deadline:
            for p in pids:
                with contextlib.suppress(ProcessLookupError, psutil.Error):
                    os.kill(p, signal.SIGKILL)
            raise AssertionError(f"processes outlived the killed service by {timeout:.0f} s")
        time.sleep(0.05)


def _import_to_the_end(served: Served) -> dict[str, Any]:
    session_id = served.start_import()
    status = wait_state(served, session_id, lambda s: s["state"] in FINISHED, timeout=180)
    assert status["state"] == "COMPLETED", status
    return status


def run_trial(
    kind: str, seed: int, library: Path, tracks: list[Track], workdir: Path, changes: dict[str, Any]
) -> Trial:
    """One seeded trial on a fresh copy of ``library``; raises AssertionError if anything is lost."""
    rng = random.Random(seed)
    trial = Trial(kind, seed)
    started = time.monotonic()
    root = workdir / f"{kind}-{seed}"
    shutil.copytree(library, root)
    # A random point of the import: after k files (k = -1: still scanning), plus up to half a second.
    point = rng.randint(-1, len(tracks) - 2) if kind == "serve" else rng.randint(0, len(tracks) // 2)
    extra = rng.uniform(0.0, 0.5) if kind == "serve" else 0.0  # a worker dies while analysing
    with serve(root, workdir, changes) as served:
        session_id = served.start_import()
        status = wait_state(
            served, session_id, lambda s: s["state"] in FINISHED or s["progress"]["current"] >= max(point, 0)
        )
        time.sleep(extra)
        status = served.status(session_id)
        trial.killed_at = f"{status['state']} after {status['progress']['current']} files"
        if kind == "serve":
            left = [p.pid for p in psutil.Process(served.proc.pid).children(recursive=True)]
            served.proc.send_signal(signal.SIGKILL)
            served.proc.wait()
            trial.kills = 1
            _wait_gone(left)
        else:
            for _ in range(2):  # two workers, a moment apart
                workers = workers_of(served.proc.pid)
                if workers and served.status(session_id)["state"] not in FINISHED:
                    with contextlib.suppress(ProcessLookupError, psutil.Error):
                        rng.choice(workers).kill()
                        trial.kills += 1
                time.sleep(rng.uniform(0.05, 0.3))
            status = wait_state(served, session_id, lambda s: s["state"] in FINISHED, timeout=180)
            assert status["state"] == "COMPLETED", status
            db_check(root / "wkmp.db")
    with serve(root, workdir, changes) as served:  # restart, re-import
        _import_to_the_end(served)
        served.proc.send_signal(signal.SIGTERM)
        served.proc.communicate(timeout=10)
    check_database(root / "wkmp.db", tracks)
    trial.seconds = time.monotonic() - started
    return trial
