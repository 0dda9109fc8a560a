"""``wkmp-ai serve``: bind the port ourselves, refuse a second instance, run uvicorn.

We bind the listening socket before handing it to uvicorn so that "port in use" is found at once
and explained: if the process on the port answers ``/health`` as ``audio_ingest``, another wkmp-ai
runs there; otherwise some other program holds the port. Either way we exit 1.
SIGTERM and Ctrl-C shut down gracefully (uvicorn), cancelling an import in the app's lifespan;
whatever a thread is doing, the process ends within 5 s of the signal (:mod:`wkmp_ai.shutdown`).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from types import FrameType

import httpx
import uvicorn

from wkmp_ai import MODULE_NAME
from wkmp_ai.api import create_app
from wkmp_ai.config import Settings
from wkmp_ai.shutdown import ExitDeadline

__all__ = ["GRACEFUL_SHUTDOWN_S", "bind_socket", "serve"]

GRACEFUL_SHUTDOWN_S = 2
DRAIN_TIMEOUT_S = 2.5  # the import's cancel takes well under 2 s; the whole shutdown stays under 5 s
log = logging.getLogger(__name__)


class PortInUse(RuntimeError):
    pass


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(str(exc)) from exc
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _who_is_on(host: str, port: int) -> str | None:
    probe_host = "127.0.0.1" if host in {"0.0.0.0", ""} else ("[::1]" if host == "::" else host)
    try:
        reply = httpx.get(f"http://{probe_host}:{port}/health", timeout=2.0)
        return str(reply.json().get("module"))
    except (httpx.HTTPError, ValueError, AttributeError):
        return None


def serve(settings: Settings) -> int:
    try:
        sock = bind_socket(settings.host, settings.port)
    except PortInUse:
        if _who_is_on(settings.host, settings.port) == MODULE_NAME:
            print(
                f"[{MODULE_NAME}] already running on port {settings.port}. Multiple instances not allowed.",
                file=sys.stderr,
            )
        else:
            print(
                f"wkmp-ai: port {settings.port} on {settings.host} is in use by another program; "
                "choose another with --port",
                file=sys.stderr,
            )
        return 1
    except OSError as exc:
        print(f"wkmp-ai: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 1

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        server_header=False,
    )
    server = _DrainingServer(config, drain=lambda: app.state.services.sessions.shutdown())
    print(
        f"wkmp-ai serving {settings.root_folder} (database {settings.db_path}) on "
        f"http://{settings.host}:{settings.port}",
        file=sys.stderr,
        flush=True,
    )
    # uvicorn re-raises the signal that stopped it once it has shut down; with these handlers in
    # place that re-raise is harmless, so a SIGTERM or Ctrl-C ends the process with exit code 0.
    previous = {sig: signal.signal(sig, _note_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1


class _DrainingServer(uvicorn.Server):
    """On SIGTERM/Ctrl-C, cancel a running import first — so SSE clients see it end CANCELLED —
    and only then let uvicorn close connections and shut down. A second signal stops at once."""

    def __init__(self, config: uvicorn.Config, *, drain: Callable[[], Awaitable[None]]):
        super().__init__(config)
        self._drain = drain
        self._draining: asyncio.Task[None] | None = None
        self._deadline = ExitDeadline("the service")

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._deadline.arm()
        if self._draining is not None or not self.started:
            super().handle_exit(sig, frame)
            return
        self._draining = asyncio.get_event_loop().create_task(self._drain_then_exit(sig, frame))

    async def _drain_then_exit(self, sig: int, frame: FrameType | None) -> None:
        try:
            await asyncio.wait_for(self._drain(), DRAIN_TIMEOUT_S)
            await asyncio.sleep(0.2)  # let the streams send their last events
        except Exception:  # whatever happens, the service must still stop
            log.exception("cancelling the running import on shutdown failed")
        super().handle_exit(sig, frame)


def _note_signal(signum: int, frame: object) -> None:
    log.info("received %s after shutdown", signal.Signals(signum).name)
