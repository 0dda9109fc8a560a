"""Real ``wkmp-ai`` processes for the hardening tests: serve and import, offline or against the fakes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

from tests.api.test_server_process import wait_healthy
from tests.conftest import free_port, offline_env

__all__ = ["Served", "db_check", "env_for", "serve", "start_import", "stop", "wait_state"]


def env_for(tmp_path: Path, changes: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Environment of a wkmp-ai process: offline, or pointed at the fakes (``FakeServices.settings_changes()``)."""
    env = offline_env(tmp_path)
    for name, value in (changes or {}).items():
        env["ACOUSTID_API_KEY" if name == "acoustid_api_key" else f"WKMP_{name.upper()}"] = str(value)
    return env


class Served:
    def __init__(self, proc: subprocess.Popen[str], port: int, root: Path, log: Path):
        self.proc = proc
        self.port = port
        self.root = root
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log

    def log(self) -> str:
        """What the server wrote to stdout and stderr so far (its access log included)."""
        return self.log_path.read_text(errors="replace")

    def start_import(self, **body: Any) -> str:
        reply = httpx.post(self.url + "/import/start", json=body, timeout=10)
        assert reply.status_code == 202, reply.text
        return str(reply.json()["session_id"])

    def status(self, session_id: str) -> dict[str, Any]:
        return httpx.get(f"{self.url}/import/status/{session_id}", timeout=10).json()  # type: ignore[no-any-return]


@contextmanager
def serve(
    root: Path, tmp_path: Path, changes: Mapping[str, Any] | None = None, *, verbose: bool = False
) -> Iterator[Served]:
    """``wkmp-ai serve`` on a free port; killed on exit if still running.

    Its output goes to a file, not a pipe: uvicorn logs every request, and a pipe nobody reads
    fills up and blocks the server (under load that looks exactly like a hung server).
    """
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    verbosity = ["-vv"] if verbose else []
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wkmp_ai", *verbosity, "serve", "--root", str(root), "--port", str(port)],
            env=env_for(tmp_path, changes),
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=30)
        yield Served(proc, port, root, log)
    finally:
        stop(proc)


def start_import(
    root: Path, tmp_path: Path, changes: Mapping[str, Any] | None = None, *, verbose: bool = False
) -> subprocess.Popen[str]:
    """``wkmp-ai import ROOT --json`` in its own process group."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wkmp_ai",
            *(["-vv"] if verbose else []),
            "import",
            str(root),
            "--root",
            str(root),
            "--json",
        ],
        env=env_for(tmp_path, changes),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[str]) -> None:
    """Kill a process started here and whatever it left in its process group; close its pipes."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate()
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def wait_state(served: Served, session_id: str, predicate, timeout: float = 60) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        status = served.status(session_id)
        if predicate(status):
            return status
        assert time.monotonic() < deadline, f"no such state within {timeout} s: {status['state']}"
        time.sleep(0.05)


def db_check(db: Path) -> None:
    """The database is intact: integrity, foreign keys, and no file with passages but no done state."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = conn.execute(
            "SELECT count(DISTINCT p.file_id) FROM passages p LEFT JOIN wkmp_ai_import_state s ON s.file_id = p.file_id"
            " WHERE s.file_id IS NULL OR s.status != 'analysed'"
        ).fetchone()[0]
        assert orphans == 0, "passages of a file not marked analysed: a half-written file"
    finally:
        conn.close()
