"""Load on a running ``wkmp-ai serve``: N SSE clients and a steady rate of status polls during an
import, and a soak of reconnecting clients afterwards, with the server's memory sampled throughout.
Used by tests/hardening/test_load.py and benchmarks/bench_load.py.

The load is plain HTTP/1.1 over asyncio streams, not httpx: on a 2-core machine the load generator
shares the cores with the server and its workers, and a full HTTP client spent five times the CPU
the server did (measured: 17.5 s of client CPU against 2 s of extra server CPU for one import), so
it measured itself. Polls reuse a few keep-alive connections, as a browser does; each SSE client
reads its stream to the end (the server closes it after ``completed``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import psutil

__all__ = ["LoadResult", "import_under_load", "soak"]

FINISHED = {"COMPLETED", "CANCELLED", "FAILED"}
POLL_CONNECTIONS = 8


@dataclass
class LoadResult:
    seconds: float = 0.0  # POST /import/start to the state the status endpoint reports finished
    state: str = ""
    session_id: str = ""
    polls: int = 0
    streams_completed: int = 0
    events: int = 0
    errors: list[str] = field(default_factory=list)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, server RSS)
    server_cpu_s: float = 0.0  # CPU the server process used while the load ran
    tree_cpu_s: float = 0.0  # CPU of the server and its workers (the import's whole cost)

    def rss_growth_mb(self, after_s: float = 1.0) -> float:
        """Server RSS at the end minus its lowest value after the first ``after_s`` seconds."""
        later = [mb for t, mb in self.rss_mb if t >= after_s] or [mb for _, mb in self.rss_mb]
        return later[-1] - min(later) if later else 0.0


class _Target:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.authority = f"{self.host}:{self.port}"

    def request(self, path: str, *, close: bool = False) -> bytes:
        connection = "close" if close else "keep-alive"
        return f"GET {path} HTTP/1.1\r\nHost: {self.authority}\r\nConnection: {connection}\r\n\r\n".encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One response with a Content-Length body (what the JSON endpoints send)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _follow(target: _Target, session_id: str, result: LoadResult) -> None:
    """One SSE client: the whole stream of a session, counted; an error if it is cut short."""
    try:
        reader, writer = await asyncio.open_connection(target.host, target.port)
        try:
            writer.write(target.request(f"/events?session_id={session_id}", close=True))
            body = await asyncio.wait_for(reader.read(-1), 120)  # to EOF: the server ends the stream
        finally:
            writer.close()
    except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
        result.errors.append(f"/events: {type(exc).__name__}: {exc}")
        return
    if not body.startswith(b"HTTP/1.1 200"):
        result.errors.append(f"/events answered {body[:40]!r}")
        return
    result.events += body.count(b"\ndata: ")
    if b"event: completed" in body:
        result.streams_completed += 1
    else:
        result.errors.append("an SSE stream ended before 'completed'")


async def _poll(target: _Target, session_id: str, per_second: float, result: LoadResult, until: asyncio.Event) -> None:
    """``per_second`` status requests a second on a fixed schedule, over a few keep-alive connections."""
    due: asyncio.Queue[None] = asyncio.Queue()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(target.host, target.port)
        request = target.request(f"/import/status/{session_id}")
        try:
            while True:
                await due.get()
                if until.is_set():
                    return
                writer.write(request)
                status, _body = await _read_response(reader)
                result.polls += 1
                if status != 200:
                    result.errors.append(f"/import/status answered {status}")
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.errors.append(f"/import/status: {type(exc).__name__}: {exc}")
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(POLL_CONNECTIONS)]
    interval, next_at = 1.0 / per_second, time.monotonic()
    while not until.is_set():
        due.put_nowait(None)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers)


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def _sample(pid: int, started: float, result: LoadResult, until: asyncio.Event) -> None:
    """Server RSS every 0.25 s; the CPU of the server and of every process under it (workers come
    and go: each one's last sample counts)."""
    process = psutil.Process(pid)
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    while True:
        result.rss_mb.append((time.monotonic() - started, process.memory_info().rss / 1e6))
        for proc in [process, *process.children(recursive=True)]:
            try:
                last[proc.pid] = _cpu(proc)
            except psutil.Error:
                continue
            first.setdefault(proc.pid, last[proc.pid])
        if until.is_set():
            break
        await asyncio.sleep(0.25)
    result.server_cpu_s = last[pid] - first[pid]
    result.tree_cpu_s = sum(last.values()) - sum(first.values())


async def import_under_load(
    url: str, server_pid: int, *, subscribers: int, polls_per_s: float, body: dict | None = None
) -> LoadResult:
    """Start an import and follow it with ``subscribers`` SSE streams and ``polls_per_s`` status polls."""
    result = LoadResult()
    target = _Target(url)
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        started = time.monotonic()
        done = asyncio.Event()
        sampler = asyncio.create_task(_sample(server_pid, started, result, done))
        reply = await client.post("/import/start", json=body or {})
        if reply.status_code != 202:
            result.errors.append(f"/import/start answered {reply.status_code}: {reply.text[:200]}")
            done.set()
            await sampler
            return result
        session_id = result.session_id = reply.json()["session_id"]
        followers = [asyncio.create_task(_follow(target, session_id, result)) for _ in range(subscribers)]
        poller = asyncio.create_task(_poll(target, session_id, polls_per_s, result, done)) if polls_per_s else None
        while True:  # the finish line, seen by a client of its own
            status = (await client.get(f"/import/status/{session_id}")).json()
            if status["state"] in FINISHED:
                result.seconds = time.monotonic() - started
                result.state = status["state"]
                break
            await asyncio.sleep(0.1)
        await asyncio.gather(*followers)
        done.set()
        await asyncio.gather(sampler, *([poller] if poller else []))
    return result


async def soak(
    url: str, server_pid: int, session_id: str, *, clients: int, polls_per_s: float, seconds: float
) -> LoadResult:
    """``clients`` SSE clients reconnecting to a finished session over and over, and status polls, for
    ``seconds``: the server's memory must stay flat."""
    result = LoadResult()
    target = _Target(url)
    started = time.monotonic()
    done = asyncio.Event()

    async def reconnecting() -> None:
        while not done.is_set():
            await _follow(target, session_id, result)
            await asyncio.sleep(1.0)  # browsers wait their "retry" time (3 s by default) before reconnecting

    side = [asyncio.create_task(_sample(server_pid, started, result, done))]
    side.append(asyncio.create_task(_poll(target, session_id, polls_per_s, result, done)))
    loops = [asyncio.create_task(reconnecting()) for _ in range(clients)]
    await asyncio.sleep(seconds)
    done.set()
    await asyncio.gather(*loops, *side)
    result.seconds = time.monotonic() - started
    return result
