"""Does following an import over SSE slow it down? Import time with 100 subscribers ÷ with none.

    .venv/bin/python -m benchmarks.bench_sse [--files 40] [--seconds 30] [--subscribers 100] [--pairs 3]

Each run starts a fresh ``wkmp-ai serve`` on a copy of a generated library (FLAC, 30 s tracks),
optionally opens N ``/events`` streams on it (one asyncio client process holding all of them, as
100 browser tabs would), starts an import through the API and times it from ``POST /import/start``
to the ``completed`` event. Runs alternate (none, N, none, N, …) and medians are quoted. The
identification services point at a closed port, so the figure is about the server, not the
network. Goal: the ratio ≤ 1.05.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import free_port, offline_env
from tests.ingest.library import make_album

OUT = Path(__file__).resolve().parent / "out"


async def one_run(library: Path, scratch: Path, subscribers: int) -> float:
    root = scratch / f"run-{time.monotonic_ns()}"
    shutil.copytree(library, root, ignore=shutil.ignore_patterns("wkmp.db*"))
    port = free_port()
    env = offline_env(scratch)
    server = subprocess.Popen(
        [sys.executable, "-m", "wkmp_ai", "serve", "--root", str(root), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=600, limits=httpx.Limits(max_connections=200)) as client:
            for _ in range(200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
            started = time.monotonic()
            session_id = (await client.post("/import/start", json={})).json()["session_id"]
            followers = [asyncio.create_task(follow(client, session_id)) for _ in range(subscribers)]
            while True:
                status = (await client.get(f"/import/status/{session_id}")).json()
                if status["state"] in {"COMPLETED", "CANCELLED", "FAILED"}:
                    elapsed = time.monotonic() - started
                    break
                await asyncio.sleep(0.05)
            counts = await asyncio.gather(*followers)
            if subscribers and min(counts) < 3:
                raise SystemExit(f"a subscriber saw only {min(counts)} events")
            return elapsed
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(root, ignore_errors=True)


async def follow(client: httpx.AsyncClient, session_id: str) -> int:
    events = 0
    async with client.stream("GET", "/events", params={"session_id": session_id}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                events += 1
                if json.loads(line[5:]).get("type") == "completed":
                    break
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    library = OUT / f"sse-{args.files}x{int(args.seconds)}"
    if not (library / ".complete").exists():
        shutil.rmtree(library, ignore_errors=True)
        make_album(library, "Album", args.files, seconds=args.seconds)
        (library / ".complete").write_text("")
    times: dict[int, list[float]] = {0: [], args.subscribers: []}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.pairs):
            for n in (0, args.subscribers):
                times[n].append(asyncio.run(one_run(library, Path(scratch), n)))
                print(f"{n:4d} subscribers: {times[n][-1]:.2f} s", flush=True)
    none, many = statistics.median(times[0]), statistics.median(times[args.subscribers])
    print(f"median import time: {none:.2f} s with no subscriber, {many:.2f} s with {args.subscribers}")
    print(f"ratio: {many / none:.3f}  (goal ≤ 1.05)")


if __name__ == "__main__":
    main()
