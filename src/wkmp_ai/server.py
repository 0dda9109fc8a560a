"""``wkmp-ai serve``: bind the port ourselves, refuse a second instance, run uvicorn.

We bind the listening socket before handing it to uvicorn so that "port in use" is found at once
and explained: if the process on the port answers ``/health`` as ``audio_ingest``, another wkmp-ai
runs there; otherwise some other program holds the port. Either way we exit 1.
SIGTERM and Ctrl-C shut down gracefully (uvicorn), cancelling an import in the app's lifespan.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys

import httpx
import uvicorn

from wkmp_ai import MODULE_NAME
from wkmp_ai.api import create_app
from wkmp_ai.config import Settings

__all__ = ["GRACEFUL_SHUTDOWN_S", "bind_socket", "serve"]

GRACEFUL_SHUTDOWN_S = 3
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
    server = uvicorn.Server(config)
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


def _note_signal(signum: int, frame: object) -> None:
    log.info("received %s after shutdown", signal.Signals(signum).name)
