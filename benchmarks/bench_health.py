"""``/health`` latency: 100 clients at once and one client in turn, against a bare HTTP reference.

    .venv/bin/python -m benchmarks.bench_health [--rounds 5]

The design asks a mean under 50 ms for a health check. Wall-clock latency on a shared machine says
as much about the machine as about the server, so each round also times the same requests against a
reference measured in the same run: a minimal asyncio HTTP server (no framework, no middleware) in
its own process, answering the same JSON. Rounds alternate server and reference; medians are
quoted, and the ratio is what to compare between machines. The suite only checks that 100
simultaneous health checks all succeed (``tests/api/test_server_process.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.test_server_process import wait_healthy
from tests.conftest import free_port
from tests.hardening.procs import serve, stop

REFERENCE_SERVER = textwrap.dedent(
    """
    import asyncio, json, sys
    BODY = json.dumps({"status": "healthy", "module": "audio_ingest", "version": "0"}).encode()
    async def handle(reader, writer):
        while True:
            try:
                await reader.readuntil(b"\\r\\n\\r\\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                return
            writer.write(b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: "
                         + str(len(BODY)).encode() + b"\\r\\n\\r\\n" + BODY)
            await writer.drain()
    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
        async with server:
            await server.serve_forever()
    asyncio.run(main())
    """
)


async def concurrent(url: str, clients: int) -> list[float]:
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        await client.get("/health")

        async def one() -> float:
            started = time.perf_counter()
            reply = await client.get("/health")
            reply.raise_for_status()
            return time.perf_counter() - started

        return list(await asyncio.gather(*(one() for _ in range(clients))))


def sequential(url: str, count: int) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.get("/health").raise_for_status()
            times.append(time.perf_counter() - started)
    return times


def measure(url: str) -> tuple[float, float]:
    """Mean latency of 100 simultaneous requests, median of 50 requests in turn (seconds)."""
    return statistics.mean(asyncio.run(concurrent(url, 100))), statistics.median(sequential(url, 50))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ours: list[tuple[float, float]] = []
    ref: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        port = free_port()
        reference = subprocess.Popen([sys.executable, "-c", REFERENCE_SERVER, str(port)], start_new_session=True)
        try:
            ref_url = f"http://127.0.0.1:{port}"
            wait_healthy(ref_url, reference)
            with serve(scratch / "root", scratch) as served:
                for _ in range(args.rounds):
                    ours.append(measure(served.url))
                    ref.append(measure(ref_url))
        finally:
            stop(reference)
    ours_mean = statistics.median(m for m, _ in ours)
    ours_single = statistics.median(s for _, s in ours)
    ref_mean = statistics.median(m for m, _ in ref)
    ref_single = statistics.median(s for _, s in ref)
    print(f"rounds: {args.rounds} (alternating), medians")
    print(
        f"100 at once, mean latency: wkmp-ai {ours_mean * 1000:.1f} ms, reference {ref_mean * 1000:.1f} ms, "
        f"ratio {ours_mean / ref_mean:.2f}  (design goal: mean < 50 ms)"
    )
    print(
        f"one at a time, median:      wkmp-ai {ours_single * 1000:.2f} ms, reference {ref_single * 1000:.2f} ms, "
        f"ratio {ours_single / ref_single:.2f}"
    )


if __name__ == "__main__":
    main()
