"""Security and request hygiene as one pure ASGI middleware (docs/design.md, *Security*).

In order, for every HTTP request:

1. **Host check** — a ``Host`` naming anything but this service is refused (400). This stops DNS
   rebinding: a hostile page that resolves its own name to 127.0.0.1 still sends its own name. The
   header is parsed strictly (name or ``[IPv6]``, optional numeric port, nothing else).
2. **Cross-origin writes** — a state-changing request (POST/PUT/PATCH/DELETE) whose ``Origin`` is
   neither this service nor wkmp-ui is refused (403), as is one a browser marks
   ``Sec-Fetch-Site: cross-site``. Requests without an ``Origin`` (curl, scripts) pass.
3. **CORS** — only wkmp-ui's origins get ``Access-Control-Allow-*`` headers; a preflight from any
   other origin is refused (403).
4. **Bodies** — JSON only (415 otherwise) and at most 1 MiB (413). Write bodies are read here, counted
   as they stream in and handed on whole, so a chunked body or a lying ``Content-Length`` cannot get
   past the cap (FastAPI would turn an exception raised mid-read into a generic 400).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_BODY_BYTES", "SecurityMiddleware"]

MAX_BODY_BYTES = 1 << 20
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CORS_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, PUT, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type, Last-Event-ID"),
    (b"access-control-max-age", b"600"),
]


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that hands the app the body already read, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# RFC 9110 Host = uri-host [ ":" port ]: a bracketed IPv6 address or a plain name/IPv4 address, then
# an optional port of digits. Nothing else may follow: "127.0.0.1:5799@evil.example" and
# "[::1]evil.example" name someone else (a browser resolving them reaches another host).
_HOST = re.compile(r"(?:\[(?P<ip6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?))(?::[0-9]{1,5})?", re.ASCII)


def _host_name(host_header: str) -> str | None:
    """The host named by a ``Host`` header (lower case, IPv6 in brackets), or None if it is malformed."""
    match = _HOST.fullmatch(host_header.strip().lower())
    if match is None:
        return None
    return f"[{match['ip6']}]" if match["ip6"] else match["name"]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _send_json(
    send: Send, status: int, body: dict[str, object], extra: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class SecurityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Iterable[str],
        cors_origins: Iterable[str],
        max_body_bytes: int = MAX_BODY_BYTES,
    ):
        self.app = app
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        self.cors_origins = frozenset(_origin_of(o) for o in cors_origins)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if _host_name(host) not in self.allowed_hosts:
            shown = host.encode("latin-1", "replace").decode("ascii", "replace")[:200]
            await _send_json(send, 400, {"error": "invalid_host", "message": f"Host {shown} is not accepted"})
            return

        method = scope["method"]
        origin = headers.get("origin")
        origin_key = origin.lower().rstrip("/") if origin else None
        cors_allowed = origin_key in self.cors_origins
        same_origin = origin_key == f"{scope.get('scheme', 'http')}://{host.lower()}"

        if method == "OPTIONS" and origin and "access-control-request-method" in headers:
            if not cors_allowed:
                await _send_json(
                    send,
                    403,
                    {"error": "cross_origin_refused", "message": f"origin {origin} may not call this service"},
                )
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin"), *CORS_HEADERS],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        if method in UNSAFE_METHODS:
            cross_site = headers.get("sec-fetch-site") == "cross-site" and not cors_allowed
            if (origin and not (same_origin or cors_allowed)) or cross_site:
                await _send_json(
                    send,
                    403,
                    {"error": "cross_origin_refused", "message": "cross-origin requests may not change state"},
                )
                return
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
                await _send_json(send, 413, {"error": "Request body too large", "max_size": "1MB"})
                return
            has_body = (length is not None and int(length) > 0) or "chunked" in headers.get("transfer-encoding", "")
            content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if has_body and content_type != "application/json":
                await _send_json(send, 415, {"error": "Content-Type must be application/json"})
                return

        if method in UNSAFE_METHODS:
            body = await self._read_capped(receive)
            if body is None:
                await _send_json(send, 413, {"error": "Request body too large", "max_size": "1MB"})
                return
            receive = _replay(body, receive)
        if cors_allowed and origin:
            send = self._with_cors(send, origin)
        await self.app(scope, receive, send)

    async def _read_capped(self, receive: Receive) -> bytes | None:
        """Read the whole body, or return None as soon as it passes the cap (nothing more is read)."""
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # client went away; the app will see an empty body
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _with_cors(send: Send, origin: str) -> Send:
        async def cors_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", origin.encode()),
                    (b"vary", b"Origin"),
                ]
            await send(message)

        return cors_send
