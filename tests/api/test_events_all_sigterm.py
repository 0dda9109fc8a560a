"""``GET /events`` without a session never ends by itself (wkmp-ui stays subscribed): a ``serve``
process with such subscribers, and a folder browser still counting, must still stop promptly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.hardening.procs import serve


def test_serve_with_all_imports_subscribers_stops_on_sigterm(tmp_path: Path) -> None:
    root = tmp_path / "music"
    (root / "Albums").mkdir(parents=True)
    connected = threading.Barrier(4, timeout=30)

    def subscribe(url: str) -> None:
        try:
            with httpx.Client(timeout=30) as client, client.stream("GET", url + "/events") as reply:
                assert reply.status_code == 200
                for line in reply.iter_lines():
                    if line.startswith("event: connected"):
                        connected.wait()
        except httpx.HTTPError:
            pass  # the server went away: what this test does to it

    with serve(root, tmp_path) as served:
        readers = [threading.Thread(target=subscribe, args=(served.url,), daemon=True) for _ in range(3)]
        for reader in readers:
            reader.start()
        connected.wait()  # three subscribers are waiting for the next import
        assert httpx.get(served.url + "/folders", timeout=10).status_code == 200
        served.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            _out, err = served.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError("serve was still running 20 s after SIGTERM") from None
        elapsed = time.monotonic() - started
        assert elapsed < 5.0, err
        assert served.proc.returncode == 0, err
        for reader in readers:
            reader.join(timeout=10)
            assert not reader.is_alive()  # every stream ended with the service
