"""A real HTTP/1.1 server on 127.0.0.1 for a fake web service, with rate limits and faults.

Each fake (AcoustID, MusicBrainz, AcousticBrainz, Cover Art Archive) subclasses
:class:`FakeService` and implements :meth:`FakeService.handle`. The base class:

- serves on a free port of 127.0.0.1 from a thread (keep-alive connections, one thread each);
- logs every request (time of arrival, method, path, query, headers, decoded body);
- **enforces** a rate limit the way the real service does: a request that arrives sooner than
  ``1/rate`` seconds (less ``tolerance`` of that, for clock jitter) after the last accepted one
  is refused with the service's own throttle answer (MusicBrainz: 503; AcoustID: 429 + error
  code 14), and counted in :attr:`FakeService.throttled`. With ``window=True`` it counts instead
  the arrivals accepted in the last second, allowing ``rate`` of them in any 1-second window,
  with no tolerance; ``jitter`` (seconds, drawn per request) delays each arrival as a network
  path would, so requests that left evenly spaced arrive unevenly;
- plays injected faults, in order, to the next requests that match: a status code (optionally
  with ``Retry-After``), an HTML error page, malformed JSON, a truncated body, a delay (for
  client timeouts), a 200 with an error document, a connection closed with no answer, the right
  answer trickling in slowly, under a wrong ``Content-Type``, with invalid UTF-8 in it, or buried
  in a body of hundreds of megabytes.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import json
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FakeService", "Fault", "FaultKind", "Request", "Response"]


class FaultKind(StrEnum):
    STATUS = "status"  # an HTTP error status with a JSON (or given) body
    HTML = "html"  # an HTML error page (status 200 unless given)
    MALFORMED = "malformed"  # 200 with cut-off JSON
    TRUNCATED = "truncated"  # Content-Length promises more than is sent, then the connection closes
    DELAY = "delay"  # answer normally after delay_s (beyond the client's timeout)
    ERROR_DOCUMENT = "error_document"  # 200 with {"status": "error", ...}
    RESET = "reset"  # close the connection without answering
    SLOW_BODY = "slow_body"  # the real answer, a few bytes every delay_s (a read timeout never fires)
    WRONG_TYPE = "wrong_type"  # the real answer labelled text/html
    INVALID_UTF8 = "invalid_utf8"  # the real answer with bytes that are not UTF-8 in it
    HUGE = "huge"  # 200 with a body of size_mb megabytes (chunked, no length: only a cap stops it)


@dataclass
class Fault:
    kind: FaultKind
    status: int = 500
    times: int = 1
    delay_s: float = 0.0
    retry_after: str | None = None
    body: bytes | None = None
    match: str | None = None  # only requests whose path contains this
    size_mb: int = 256


@dataclass
class Request:
    time: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(doc, ensure_ascii=False).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections close after this
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def do_POST(self) -> None:
        self.server.fake._serve(self)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeService


class FakeService:
    name = "fake"
    throttle_status = 503

    def __init__(
        self,
        *,
        rate: float | None = None,
        tolerance: float = 0.05,
        unlimited: tuple[str, ...] = (),
        window: bool = False,
        jitter: Callable[[], float] | None = None,
    ):
        self.rate = rate
        self.tolerance = tolerance
        self.window = window
        self.jitter = jitter
        self._accepted: deque[float] = deque()
        self.unlimited = unlimited  # path prefixes outside the limit (another host in real life)
        self.requests: list[Request] = []
        self.throttled = 0
        self.faults_played: list[FaultKind] = []  # the kind of every fault played, in order
        self.faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._last_accepted = -math.inf
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeService:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- test controls ------------------------------------------------------------------------

    def inject(self, kind: FaultKind | str, **kw: Any) -> None:
        with self._lock:
            self.faults.append(Fault(FaultKind(kind), **kw))

    def count(self, path_part: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if path_part is None or path_part in r.path)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.throttled = 0
            self.faults_played.clear()
            self.faults.clear()

    def arrival_gaps(self) -> list[float]:
        with self._lock:
            times = [r.time for r in self.requests]
        return [b - a for a, b in itertools.pairwise(times)]

    # --- what a subclass provides -------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def throttle_response(self) -> Response:
        return Response.json({"error": "rate limit exceeded"}, status=self.throttle_status)

    def error_document(self) -> bytes:
        return json.dumps({"status": "error", "error": {"code": 5, "message": "internal error"}}).encode()

    # --- serving ------------------------------------------------------------------------------

    def _serve(self, h: _Handler) -> None:
        if self.jitter is not None:
            time.sleep(max(0.0, self.jitter()))  # the network path's delay, different for every request
        arrived = time.monotonic()
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if h.headers.get("Content-Encoding", "").lower() == "gzip" and body:
            body = gzip.decompress(body)
        request = Request(
            time=arrived,
            method=h.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in h.headers.items()},
            body=body,
        )
        if "x-www-form-urlencoded" in h.headers.get("Content-Type", ""):
            request.form = dict(parse_qsl(body.decode("ascii", "replace"), keep_blank_values=True))
        with self._lock:
            self.requests.append(request)
            throttled = False
            if self.rate is not None and not split.path.startswith(self.unlimited or ("\0",)):
                throttled = self._over_limit(arrived)
                self.throttled += throttled
            fault = None if throttled else self._take_fault(split.path)
        if throttled:
            self._send(h, self.throttle_response())
            return
        if fault is not None:
            with self._lock:
                self.faults_played.append(fault.kind)
            self._play(h, fault, request)
            return
        try:
            response = self.handle(request)
        except Exception as exc:  # a bug in a fake shows as a 500, as a real server would answer
            response = Response.json({"error": f"fake failed: {exc!r}"}, status=500)
        self._send(h, response)

    def _over_limit(self, arrived: float) -> bool:
        """Whether a request arriving now is refused; an accepted one is recorded."""
        assert self.rate is not None
        if self.window:
            while self._accepted and self._accepted[0] <= arrived - 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= max(1, math.floor(self.rate)):
                return True
            self._accepted.append(arrived)
            return False
        if arrived - self._last_accepted < (1.0 / self.rate) * (1.0 - self.tolerance):
            return True
        self._last_accepted = arrived
        return False

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.match is None or fault.match in path:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _play(self, h: _Handler, fault: Fault, request: Request) -> None:
        kind = fault.kind
        if kind is FaultKind.STATUS:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            body = fault.body if fault.body is not None else json.dumps({"error": f"HTTP {fault.status}"}).encode()
            self._send(h, Response(fault.status, body, {"Content-Type": "application/json", **headers}))
        elif kind is FaultKind.HTML:
            page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
            status = fault.status if fault.status != 500 else 200
            self._send(h, Response(status, page, {"Content-Type": "text/html"}))
        elif kind is FaultKind.MALFORMED:
            self._send(h, Response(200, b'{"status": "ok", "results": [{"id": "', {"Content-Type": "application/json"}))
        elif kind is FaultKind.ERROR_DOCUMENT:
            body = fault.body if fault.body is not None else self.error_document()
            self._send(h, Response(200, body, {"Content-Type": "application/json"}))
        elif kind is FaultKind.DELAY:
            time.sleep(fault.delay_s)
            self._send(h, self.handle(request))
        elif kind is FaultKind.TRUNCATED:
            full = self.handle(request).body or b"{}" * 64
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(full) + 1000))
            h.end_headers()
            h.wfile.write(full[: max(1, len(full) // 3)])
            h.wfile.flush()
            self._hang_up(h)
        elif kind is FaultKind.RESET:
            self._hang_up(h)
        elif kind is FaultKind.SLOW_BODY:
            self._trickle(h, self.handle(request), fault.delay_s or 0.2)
        elif kind is FaultKind.WRONG_TYPE:
            response = self.handle(request)
            self._send(h, Response(response.status, response.body, {"Content-Type": "text/html; charset=utf-8"}))
        elif kind is FaultKind.INVALID_UTF8:
            response = self.handle(request)
            quote = response.body.find(b'"', response.body.find(b":"))  # inside the first string value
            body = response.body[: quote + 1] + b"\xff\xfe\xc3(" + response.body[quote + 1 :]
            self._send(h, Response(response.status, body, response.headers))
        elif kind is FaultKind.HUGE:
            self._flood(h, fault.size_mb)

    @staticmethod
    def _trickle(h: _Handler, response: Response, delay_s: float) -> None:
        h.send_response(response.status)
        for name, value in response.headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(response.body)))
        h.end_headers()
        with contextlib.suppress(OSError):
            for start in range(0, len(response.body), 16):
                h.wfile.write(response.body[start : start + 16])
                h.wfile.flush()
                time.sleep(delay_s)

    @staticmethod
    def _flood(h: _Handler, size_mb: int) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        block = b" " * (1 << 20)
        chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        with contextlib.suppress(OSError):  # the client hangs up once it has read its cap
            for _ in range(size_mb):
                h.wfile.write(chunk)
            h.wfile.write(b"0\r\n\r\n")
        h.close_connection = True

    @staticmethod
    def _hang_up(h: _Handler) -> None:
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _send(h: _Handler, response: Response) -> None:
        h.send_response(response.status)
        for name, value in response.headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(response.body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(response.body)
