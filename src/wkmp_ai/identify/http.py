"""The HTTP layer every identification client shares: one pooled ``httpx`` client per service.

Each :class:`ServiceClient` owns a connection pool (keep-alive), a timeout, our User-Agent, the
service's :class:`~wkmp_ai.identify.ratelimit.RateLimiter`, a retry loop and a circuit breaker.

Errors, translated once here (docs/design.md, *Errors*)::

    ServiceError                 the service could not give an answer
    ├── ServiceUnavailable       marked unavailable for this session; no request was sent
    ├── NotFound                 404: a definite "no such thing"
    └── Rejected                 another 4xx or an error document that retrying cannot fix

Every exchange is bounded: the whole answer, body included, must arrive within the timeout (a body
trickling in byte by byte does not reset it), and at most :data:`MAX_BODY_BYTES` of it is read
(after decompression; a longer one is abandoned).

Transient failures — connection refused, DNS failure, timeouts, 429/500/502/503/504, a truncated
or oversized body, an HTML page or malformed JSON where JSON was due, an error document the parser
calls transient — are retried with exponential backoff and jitter, honouring ``Retry-After``. When an
operation still fails, the breaker counts it; after ``breaker_threshold`` consecutive failed
operations (or one :class:`Rejected` with ``fatal=True``, e.g. an invalid API key) the service is
unavailable for the rest of the session.

This is the one place where a service's answers become our errors: every :class:`ServiceError`
leaving :meth:`ServiceClient.request` — including those a response parser raised from the
service's own error document, which may quote the request — has the secret (the AcoustID key,
as sent and URL-encoded) replaced by ``***`` and its detail cut to :data:`MAX_DETAIL` characters,
in that order, so that no part of the key survives a cut.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

from wkmp_ai.errors import ErrorCode, WkmpError, plain_message
from wkmp_ai.identify.ratelimit import Clock, RateLimiter, Sleep

__all__ = [
    "NotFound",
    "Rejected",
    "RetryPolicy",
    "ServiceClient",
    "ServiceError",
    "ServiceStats",
    "ServiceUnavailable",
    "Transient",
]

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_DETAIL = 300  # characters of a service's own message kept in our error
CONNECT_TIMEOUT_S = 10.0  # a connection not made by then is a dead route (a firewall that drops), not a slow one
MAX_BODY_BYTES = 32 << 20  # no answer of these services is larger (a cover image is at most 30 MiB)


_NETWORK_CODE = {
    "acoustid": ErrorCode.ACOUSTID_NETWORK_ERROR,
    "musicbrainz": ErrorCode.MUSICBRAINZ_NETWORK_ERROR,
    "acousticbrainz": ErrorCode.ACOUSTICBRAINZ_NETWORK_ERROR,
    "coverart": ErrorCode.COVERART_NETWORK_ERROR,
}
_RATE_CODE = {"acoustid": ErrorCode.ACOUSTID_RATE_LIMIT, "musicbrainz": ErrorCode.MUSICBRAINZ_RATE_LIMIT}


class ServiceError(WkmpError):
    """``code`` is the service's network error code (its rate-limit code for a 429/503 it kept
    answering); ``kind`` says more, for the statistics."""

    def __init__(self, service: str, detail: str, *, kind: str = "network", status: int | None = None):
        if kind == "unavailable":
            code: ErrorCode | None = ErrorCode.SERVICE_UNAVAILABLE
        else:
            code = _RATE_CODE.get(service) if kind == "rate_limit" else None
        super().__init__(detail, code=code or _NETWORK_CODE.get(service, ErrorCode.SERVICE_UNAVAILABLE))
        self.args = (f"{service}: {detail}",)
        self.service = service
        self.kind = kind  # network | timeout | http | garbage | rate_limit | unavailable | not_found | rejected
        self.status = status


class ServiceUnavailable(ServiceError):
    """Given up for this session (code SERVICE_UNAVAILABLE); no request was sent."""


class NotFound(ServiceError):
    pass


class Rejected(ServiceError):
    def __init__(self, service: str, detail: str, *, status: int | None = None, fatal: bool = False):
        super().__init__(service, detail, kind="rejected", status=status)
        self.fatal = fatal


class Transient(WkmpError):
    """Raised by a response parser: the answer is unusable, but a retry may get a good one."""

    def __init__(self, detail: str, *, kind: str = "garbage", retry_after: float | None = None):
        super().__init__(detail)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    # A server that cannot be reached at all (no such host, connection refused, no answer to the
    # connect) is tried once more, not four times: more tries over 7 s do not bring up a server that is
    # down or a machine that is offline, the import waited for them, and its files stay pending for
    # the next one (docs/identify.md, *HTTP, rate limits, faults*).
    unreachable_attempts: int = 2
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    jitter: float = 0.25  # ± this fraction of the delay
    max_retry_after_s: float = 120.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        backoff *= 1 + rng.uniform(-self.jitter, self.jitter)
        if retry_after is not None:
            return max(backoff, min(retry_after, self.max_retry_after_s))
        return max(0.0, backoff)


@dataclass
class ServiceStats:
    requests: int = 0  # HTTP requests sent (every attempt counts)
    retries: int = 0
    failures: int = 0  # operations that failed after all attempts
    throttled: int = 0  # 429/503 answers
    not_found: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "failures": self.failures,
            "throttled": self.throttled,
            "not_found": self.not_found,
        }


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def json_body(response: httpx.Response) -> Any:
    """Decode a JSON body or raise :class:`Transient` (an HTML error page, a cut-off document)."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        ctype = response.headers.get("content-type", "?")
        raise Transient(f"malformed JSON ({ctype}, {len(response.content)} bytes)") from exc


Parser = Callable[[httpx.Response], Any]


_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def _tls_context() -> ssl.SSLContext:
    """One TLS context (httpx's default: certifi's certificates, or SSL_CERT_FILE / SSL_CERT_DIR) for every
    service client of the process; each client would otherwise load the certificates again (~60 ms of CPU,
    four times an import)."""
    global _tls
    with _tls_lock:
        if _tls is None:
            _tls = httpx.create_ssl_context()
        return _tls


class ServiceClient:
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        rate: float,
        user_agent: str,
        timeout_s: float = 30.0,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        breaker_threshold: int = 3,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        secret: str | None = None,
        follow_redirects: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter or RateLimiter(rate, clock=clock, sleep=sleep)
        self.retry = retry or RetryPolicy()
        self.breaker_threshold = max(1, breaker_threshold)
        self.timeout_s = timeout_s
        self.stats = ServiceStats()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._secret = secret
        self._consecutive_failures = 0
        self.unavailable_reason: str | None = None
        self._http = httpx.AsyncClient(
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)),
            follow_redirects=follow_redirects,
            transport=transport,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            verify=_tls_context(),
        )

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    async def aclose(self) -> None:
        await self._http.aclose()

    def redact(self, text: str) -> str:
        if self._secret:
            for form in {self._secret, quote_plus(self._secret), quote(self._secret, safe="")}:
                text = text.replace(form, "***")
        return text

    def _ours(self, exc: ServiceError) -> ServiceError:
        """``exc`` fit to leave this module: the secret redacted, then the detail capped."""
        detail = self.redact(exc.detail)
        if len(detail) > MAX_DETAIL:
            detail = detail[: MAX_DETAIL - 1] + "…"
        exc.detail = detail
        exc.args = (f"{exc.service}: {detail}",)
        return exc

    def mark_unavailable(self, reason: str) -> None:
        if self.unavailable_reason is None:
            self.unavailable_reason = self.redact(reason)
            log.warning("%s marked unavailable for this session: %s", self.name, self.unavailable_reason)

    async def get_json(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        parse: Parser = json_body,
        inspect_error: Callable[[httpx.Response], None] | None = None,
    ) -> Any:
        return await self.request("GET", self._url(path), params=params, parse=parse, inspect_error=inspect_error)

    async def post(
        self,
        path: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        parse: Parser = json_body,
        inspect_error: Callable[[httpx.Response], None] | None = None,
    ) -> Any:
        return await self.request(
            "POST", self._url(path), content=content, headers=headers, parse=parse, inspect_error=inspect_error
        )

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        parse: Parser = json_body,
        inspect_error: Callable[[httpx.Response], None] | None = None,
    ) -> Any:
        """Send with retries; return ``parse(response)`` for a 2xx answer.

        ``inspect_error`` sees every 4xx/5xx answer first and may raise :class:`Transient` or
        :class:`Rejected` from the service's own error document.
        """
        last: ServiceError | None = None
        for attempt in range(1, self.retry.attempts + 1):
            retry_after: float | None = None
            unreachable = False
            if not self.available:  # given up: fail at once, without waiting for a rate-limit slot
                raise self._unavailable()
            try:
                async with self.limiter.slot() as sent:
                    if not self.available:  # also when another task gave the service up while we waited
                        raise self._unavailable()
                    self.stats.requests += 1

                    async def trace(event: str, info: dict[str, Any], sent: Callable[[], None] = sent) -> None:
                        if event.endswith("send_request_headers.started"):
                            sent()

                    request = self._http.build_request(
                        method, url, params=params, content=content, headers=headers, extensions={"trace": trace}
                    )
                    response = await self._exchange(request)
            except httpx.TimeoutException as exc:
                unreachable = isinstance(exc, httpx.ConnectTimeout)
                last = ServiceError(self.name, _network_words(exc), kind="timeout")
            except TimeoutError:
                last = ServiceError(self.name, f"the answer took longer than {self.timeout_s:g} s", kind="timeout")
            except _TooLarge as exc:
                last = ServiceError(self.name, f"answer of more than {exc.size:,} bytes refused", kind="garbage")
            except httpx.TransportError as exc:
                unreachable = isinstance(exc, httpx.ConnectError)
                last = ServiceError(self.name, self.redact(_network_words(exc)), kind="network")
            else:
                try:
                    result = self._evaluate(response, parse, inspect_error)
                except Transient as exc:
                    retry_after = exc.retry_after
                    if exc.kind == "rate_limit":
                        self.stats.throttled += 1
                        self.limiter.defer(retry_after if retry_after is not None else self.limiter.interval)
                    last = ServiceError(self.name, self.redact(exc.detail), kind=exc.kind, status=response.status_code)
                except NotFound as exc:
                    self._succeeded()
                    self.stats.not_found += 1
                    raise self._ours(exc) from None
                except Rejected as exc:
                    self._ours(exc)
                    log.info("%s: request refused: %s", self.name, exc.detail)
                    if exc.fatal:
                        self.mark_unavailable(exc.detail)
                    else:
                        self._succeeded()
                    raise exc from None
                else:
                    self._succeeded()
                    return result
            assert last is not None
            self.stats.by_kind[last.kind] = self.stats.by_kind.get(last.kind, 0) + 1
            if attempt >= self.retry.attempts or (unreachable and attempt >= self.retry.unreachable_attempts):
                break
            self.stats.retries += 1
            delay = self.retry.delay(attempt, retry_after, self._rng)
            log.info("%s: %s; retry %d in %.2f s", self.name, last.detail, attempt, delay)
            await self._sleep(delay)
        assert last is not None
        self._failed(last)
        raise self._ours(last)

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read its whole answer within ``timeout_s`` and :data:`MAX_BODY_BYTES`."""
        async with asyncio.timeout(self.timeout_s):
            response = await self._http.send(request, stream=True)
            try:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                    raise _TooLarge(int(declared))
                chunks: list[bytes] = []
                total = 0
                async for chunk in response.aiter_bytes():  # decompressed: a gzip bomb is capped too
                    total += len(chunk)
                    if total > MAX_BODY_BYTES:
                        raise _TooLarge(total)
                    chunks.append(chunk)
            finally:
                await response.aclose()
        kept = [(k, v) for k, v in response.headers.raw if k.lower() not in _BODY_HEADERS]  # the body is decoded
        return httpx.Response(response.status_code, headers=kept, content=b"".join(chunks), request=request)

    def _evaluate(
        self, response: httpx.Response, parse: Parser, inspect_error: Callable[[httpx.Response], None] | None
    ) -> Any:
        status = response.status_code
        if status >= 400 and inspect_error is not None:
            inspect_error(response)
        if status in RETRY_STATUSES:
            kind = "rate_limit" if status in (429, 503) else "http"
            raise Transient(
                f"HTTP {status}", kind=kind, retry_after=parse_retry_after(response.headers.get("retry-after"))
            )
        if status == 404:
            raise NotFound(self.name, "not found", kind="not_found", status=404)
        if status >= 400:
            raise Rejected(self.name, f"HTTP {status}: {_excerpt(response)}", status=status)
        if status >= 300:
            raise Transient(f"unexpected redirect {status}", kind="http")
        return parse(response)

    def _unavailable(self) -> ServiceUnavailable:
        return ServiceUnavailable(self.name, self.unavailable_reason or "unavailable", kind="unavailable")

    def _succeeded(self) -> None:
        self._consecutive_failures = 0

    def _failed(self, error: ServiceError) -> None:
        self.stats.failures += 1
        self._consecutive_failures += 1
        if self._consecutive_failures >= self.breaker_threshold:
            self.mark_unavailable(f"{self._consecutive_failures} failed operations in a row, last: {error.detail}")


_BODY_HEADERS = frozenset({b"content-encoding", b"content-length", b"transfer-encoding"})


class _TooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(f"{size} bytes")
        self.size = size


def _excerpt(response: httpx.Response, limit: int = 4 * MAX_DETAIL) -> str:
    text = response.content[:limit].decode("utf-8", "replace")
    return " ".join(text.split())


# What a network failure means, in words a user reads in the progress page and the log (not httpx's
# class names); the most specific kind first.
_NETWORK_WORDS: tuple[tuple[type[httpx.TransportError], str], ...] = (
    (httpx.ConnectTimeout, "timed out while connecting"),
    (httpx.ReadTimeout, "timed out waiting for the answer"),
    (httpx.TimeoutException, "timed out"),
    (httpx.ConnectError, "could not connect"),
    (httpx.RemoteProtocolError, "the server broke off the answer"),
    (httpx.ReadError, "the connection broke while reading the answer"),
    (httpx.WriteError, "the connection broke while sending the request"),
    (httpx.ProxyError, "the proxy refused the connection"),
)


def _network_words(exc: httpx.TransportError) -> str:
    words = next((text for kind, text in _NETWORK_WORDS if isinstance(exc, kind)), "network error")
    detail = plain_message(exc)
    return f"{words} ({detail})" if detail and detail != type(exc).__name__ else words
