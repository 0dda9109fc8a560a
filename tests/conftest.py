"""Shared fixtures: a temporary root folder, its settings and database, and a live server.

The live server is a real uvicorn on a free 127.0.0.1 port running in a thread of the test
process; tests talk to it over real sockets with httpx.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from wkmp_ai.api import create_app
from wkmp_ai.config import Settings, load_settings
from wkmp_ai.db import Database, open_database

DEAD_URL = "http://127.0.0.1:9"  # the discard port: connection refused at once
SERVICES = ("acoustid", "musicbrainz", "acousticbrainz", "coverart")


def offline_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a wkmp-ai subprocess: no user config, every service URL refusing connections."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    env.pop("ACOUSTID_API_KEY", None)
    env.pop("WKMP_ROOT", None)
    return env | {f"WKMP_{name.upper()}_URL": DEAD_URL for name in SERVICES}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    folder.mkdir()
    return folder.resolve()


@pytest.fixture
def settings(root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    # Keep the user's own config out of the tests; no network address but 127.0.0.1 is ever used.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    urls = {f"{name}_url": DEAD_URL for name in SERVICES}
    return load_settings({"root_folder": root, "port": free_port(), **urls}, env={})


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings.db_path)
    yield database
    database.close()


@dataclass
class LiveServer:
    url: str
    settings: Settings
    server: uvicorn.Server
    client: httpx.Client

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.post(path, **kw)


def start_live_server(settings: Settings) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.01)
    return server, thread


@contextmanager
def running_server(settings: Settings, *, timeout: float = 10) -> Iterator[LiveServer]:
    """The app served by uvicorn in a thread on ``settings.port``, with a client; stopped on exit."""
    server, thread = start_live_server(settings)
    url = f"http://127.0.0.1:{settings.port}"
    try:
        with httpx.Client(base_url=url, timeout=timeout) as client:
            yield LiveServer(url=url, settings=settings, server=server, client=client)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with running_server(settings) as server:
        yield server


@pytest.fixture
def settings_factory(settings: Settings):  # type: ignore[no-untyped-def]
    """Return a function that derives settings with some fields replaced."""
    return lambda **changes: replace(settings, **changes)
