"""The HTTP layer: rate limiter, retries with backoff and Retry-After, breaker, batching, redaction.

Unit tests drive the real ServiceClient with an injected clock and sleep (no waiting) and
httpx.MockTransport standing in for the network.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
import time

import httpx
import pytest

from wkmp_ai.identify.batch import Batcher
from wkmp_ai.identify.http import (
    CONNECT_TIMEOUT_S,
    NotFound,
    Rejected,
    RetryPolicy,
    ServiceClient,
    ServiceError,
    ServiceUnavailable,
    parse_retry_after,
)
from wkmp_ai.identify.lookups import IdentifyOptions
from wkmp_ai.identify.ratelimit import RateLimiter


class FakeClock:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def make_client(handler, clock: FakeClock, **kw) -> ServiceClient:  # type: ignore[no-untyped-def]
    kw.setdefault("retry", RetryPolicy(attempts=3, base_delay_s=1.0, jitter=0.0))
    return ServiceClient(
        "musicbrainz",
        "http://mb.test",
        rate=kw.pop("rate", 1.0),
        user_agent="wkmp-ai/test ( https://example.org )",
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(1),
        transport=httpx.MockTransport(handler),
        **kw,
    )


async def test_limiter_spaces_every_caller_one_interval_apart() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    starts: list[float] = []

    async def worker() -> None:
        for _ in range(3):
            await limiter.acquire()
            starts.append(clock())

    await asyncio.gather(*(worker() for _ in range(4)))
    assert len(starts) == 12
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(abs(g - 1.0) < 1e-9 for g in gaps), gaps


async def test_limiter_slot_holds_the_next_request_until_the_current_one_is_sent() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)
    order: list[str] = []
    release = asyncio.Event()

    async def first() -> None:
        async with limiter.slot() as sent:
            order.append("first-slot")
            await release.wait()  # e.g. a slow TLS handshake
            clock.now += 0.7
            sent()
            order.append("first-sent")

    async def second() -> None:
        await asyncio.sleep(0)
        async with limiter.slot():
            order.append(f"second-slot@{clock() - 1000.0:.1f}")

    task = asyncio.gather(first(), second())
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["first-slot"]  # the second waits although its interval has long passed
    release.set()
    await task
    # The second starts a full interval (0.5 s) after the first actually left (at 0.7 s).
    assert order == ["first-slot", "first-sent", "second-slot@1.2"]


async def test_limiter_defer_holds_everyone_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    await limiter.acquire()
    limiter.defer(5.0)
    await limiter.acquire()
    assert clock() - 1000.0 == pytest.approx(5.0)


def test_limiter_rejects_nonsense_rates() -> None:
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            RateLimiter(bad)


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_503_503_200_succeeds_after_1s_and_2s_backoff() -> None:
    """TEST-089: a retry policy of 3 attempts waits 1 s then 2 s (jitter off)."""
    clock = FakeClock()
    answers = iter([503, 503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), json={"id": "x"})

    client = make_client(handler, clock, rate=100.0)
    assert await client.get_json("/ws/2/release/x") == {"id": "x"}
    backoffs = [s for s in clock.sleeps if s >= 0.5]
    assert backoffs == [1.0, 2.0]
    assert client.stats.requests == 3 and client.stats.retries == 2 and client.stats.throttled == 2
    await client.aclose()


async def test_retry_after_is_honoured() -> None:
    clock = FakeClock()
    answers = iter([httpx.Response(503, headers={"Retry-After": "7"}), httpx.Response(200, json={})])
    client = make_client(lambda r: next(answers), clock, rate=100.0)
    await client.get_json("/x")
    assert max(clock.sleeps) == pytest.approx(7.0)
    await client.aclose()


async def test_user_agent_and_accept_headers_are_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    client = make_client(handler, FakeClock())
    await client.get_json("/ws/2/recording/abc", {"inc": "artist-credits", "fmt": "json"})
    assert seen[0].headers["user-agent"] == "wkmp-ai/test ( https://example.org )"
    assert seen[0].headers["accept"] == "application/json"
    assert seen[0].url.params["fmt"] == "json"
    await client.aclose()


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (httpx.Response(500, text="oops"), "http"),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), "http"),
        (httpx.Response(200, text="<html><body>maintenance</body></html>"), "garbage"),
        (httpx.Response(200, text='{"id": "cut'), "garbage"),
    ],
)
async def test_transient_answers_are_retried_then_reported(response: httpx.Response, kind: str) -> None:
    clock = FakeClock()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return response

    client = make_client(handler, clock)
    with pytest.raises(ServiceError) as err:
        await client.get_json("/x")
    assert err.value.kind == kind and calls == 3
    await client.aclose()


async def test_a_server_that_cannot_be_reached_is_tried_once_more_not_every_attempt() -> None:
    """Refused, no such host: one retry after the first backoff, then the operation fails (an offline
    import of one album waited 7 s a service for three retries that could not help)."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    clock = FakeClock()
    client = make_client(handler, clock)  # 3 attempts for anything else
    with pytest.raises(ServiceError) as err:
        await client.get_json("/x")
    assert err.value.kind == "network" and client.stats.requests == 2 and clock.sleeps == [1.0]
    assert "could not connect (Connection refused)" in str(err.value) and "ConnectError" not in str(err.value)
    await client.aclose()


async def test_a_connection_lost_after_it_was_made_gets_every_attempt() -> None:
    """The server was there: a reset or a broken-off answer is worth the whole retry policy."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)

    clock = FakeClock()
    client = make_client(handler, clock)
    with pytest.raises(ServiceError) as err:
        await client.get_json("/x")
    assert err.value.kind == "network" and client.stats.requests == 3 and clock.sleeps == [1.0, 2.0]
    await client.aclose()


async def test_one_attempt_stays_one_attempt_when_the_server_cannot_be_reached() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    clock = FakeClock()
    client = make_client(handler, clock, retry=RetryPolicy(attempts=1))
    with pytest.raises(ServiceError):
        await client.get_json("/x")
    assert client.stats.requests == 1 and clock.sleeps == []
    await client.aclose()


def real_client(url: str, clock: FakeClock, **kw) -> ServiceClient:  # type: ignore[no-untyped-def]
    """A client over the real network stack (127.0.0.1), waiting only on the fake clock between tries."""
    return ServiceClient(
        "musicbrainz",
        url,
        rate=1000.0,
        user_agent="wkmp-ai/test ( https://example.org )",
        limiter=RateLimiter(1000.0),  # its own waits are real: clock.sleeps holds only the backoffs
        sleep=clock.sleep,
        rng=random.Random(1),
        retry=RetryPolicy(attempts=4, base_delay_s=1.0, jitter=0.0),
        **kw,
    )


async def test_a_refused_port_is_tried_twice_over_the_real_network_stack() -> None:
    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        clock = FakeClock()
        client = real_client(f"http://127.0.0.1:{probe.getsockname()[1]}", clock)
        with pytest.raises(ServiceError) as err:
            await client.get_json("/x")
        await client.aclose()
    assert client.stats.requests == 2 and clock.sleeps == [1.0]
    assert str(err.value).startswith("musicbrainz: could not connect")


async def test_a_connect_that_gets_no_answer_times_out_and_is_tried_twice() -> None:
    """A server whose accept queue is full drops new connections' SYNs, as a firewall that drops
    does: the connect waits for its own timeout (at most CONNECT_TIMEOUT_S), then once more."""
    with socket.socket() as server, socket.socket() as queued:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        address = server.getsockname()
        queued.connect(address)  # fills the queue: the next connects hang
        clock = FakeClock()
        client = real_client(f"http://{address[0]}:{address[1]}", clock, connect_timeout_s=0.3, timeout_s=5.0)
        started = time.monotonic()
        with pytest.raises(ServiceError) as err:
            await client.get_json("/x")
        took = time.monotonic() - started
        await client.aclose()
    assert err.value.kind == "timeout" and "timed out while connecting" in str(err.value)
    assert client.stats.requests == 2 and clock.sleeps == [1.0]
    assert 0.55 < took < 2.0  # two connects of 0.3 s each (the sleeps are the fake clock's)


def test_connects_wait_at_most_ten_seconds_whatever_the_answer_timeout() -> None:
    client = ServiceClient("musicbrainz", "http://127.0.0.1:1", rate=1.0, user_agent="wkmp-ai/test", timeout_s=30.0)
    timeout = client._http.timeout
    assert (timeout.connect, timeout.read) == (CONNECT_TIMEOUT_S, 30.0) and CONNECT_TIMEOUT_S == 10.0


async def test_404_is_an_answer_and_400_is_not_retried() -> None:
    statuses = iter([404, 400])
    client = make_client(lambda r: httpx.Response(next(statuses), json={"error": "x"}), FakeClock())
    with pytest.raises(NotFound):
        await client.get_json("/a")
    with pytest.raises(Rejected):
        await client.get_json("/b")
    assert client.stats.requests == 2 and client.available
    await client.aclose()


async def test_breaker_gives_the_service_up_after_repeated_failures() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503)

    client = make_client(handler, FakeClock(), breaker_threshold=2)
    for _ in range(2):
        with pytest.raises(ServiceError):
            await client.get_json("/x")
    assert not client.available
    sent = calls
    with pytest.raises(ServiceUnavailable):
        await client.get_json("/x")
    assert calls == sent  # nothing more goes out
    await client.aclose()


async def test_a_success_resets_the_breaker() -> None:
    answers = iter([503, 503, 503, 200, 503, 503, 503])
    client = make_client(lambda r: httpx.Response(next(answers), json={}), FakeClock(), breaker_threshold=2)
    with pytest.raises(ServiceError):
        await client.get_json("/x")
    await client.get_json("/x")
    with pytest.raises(ServiceError):
        await client.get_json("/x")
    assert client.available
    await client.aclose()


async def test_secret_is_redacted_from_errors() -> None:
    secret = "s3cr3t-key"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text=f"bad client {secret}")

    client = make_client(handler, FakeClock(), secret=secret)
    with pytest.raises(Rejected) as err:
        await client.get_json("/x")
    assert secret not in str(err.value) and "***" in str(err.value)
    await client.aclose()


async def test_batcher_groups_concurrent_lookups_and_respects_the_size() -> None:
    calls: list[list[int]] = []

    async def fetch(keys):  # type: ignore[no-untyped-def]
        calls.append(list(keys))
        return {k: k * 10 for k in keys if k != 13}

    batcher: Batcher[int, int] = Batcher(fetch, size=20, limiter=RateLimiter(1000.0), linger_s=0.01)
    results = await asyncio.gather(*(batcher.get_many(list(range(g * 10, g * 10 + 10))) for g in range(5)))
    merged = {k: v for r in results for k, v in r.items()}
    assert merged[7] == 70 and isinstance(merged[13], KeyError)
    assert sorted(len(c) for c in calls) == [10, 20, 20]  # 50 keys in 3 requests, never more than 20
    await batcher.aclose()


async def test_an_albums_lookups_leave_at_once_in_one_batch_and_later_ones_fill_the_next() -> None:
    """With the import's default (no linger), an idle service gets an album's lookups in the same
    turn of the event loop, one request; albums that ask while the rate limit holds the next request
    back share it. (A 50 ms linger made every album, and so the last one of an import, wait.)"""
    calls: list[list[int]] = []
    gate = asyncio.Event()

    async def fetch(keys):  # type: ignore[no-untyped-def]
        calls.append(list(keys))
        await gate.wait()
        return {k: k for k in keys}

    linger = IdentifyOptions().batch_linger_s
    batcher: Batcher[int, int] = Batcher(fetch, size=20, limiter=RateLimiter(20.0), linger_s=linger)
    first = asyncio.create_task(batcher.get_many(list(range(10))))
    for _ in range(5):  # a few turns of the loop, no time passing
        await asyncio.sleep(0)
    assert calls == [list(range(10))]
    later = [asyncio.create_task(batcher.get_many(list(range(g * 10, g * 10 + 10)))) for g in (1, 2)]
    gate.set()
    await asyncio.gather(first, *later)
    assert calls == [list(range(10)), list(range(10, 30))]
    await batcher.aclose()


async def test_batcher_failure_reaches_every_waiter() -> None:
    async def fetch(keys):  # type: ignore[no-untyped-def]
        raise ServiceError("acoustid", "down")

    batcher: Batcher[int, int] = Batcher(fetch, size=5, limiter=RateLimiter(1000.0), linger_s=0)
    out = await batcher.get_many([1, 2, 3])
    assert all(isinstance(v, ServiceError) for v in out.values())
    await batcher.aclose()
