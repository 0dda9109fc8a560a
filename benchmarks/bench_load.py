"""Load, long form: an import of 500 files followed by 100 SSE clients and 50 status polls a second,
against the same import with nobody watching; then a soak of reconnecting clients.

    .venv/bin/python -m benchmarks.bench_load [--files 500] [--seconds 10] [--pairs 2] [--soak 60]

Each run starts a fresh ``wkmp-ai serve`` (offline: the figure is about the server) on a copy of a
generated library and times the import from ``POST /import/start`` until the status endpoint says
it is finished. Runs alternate (no load, load, ...) and medians are quoted; goal: ratio < 1.10 with
no error response. Wall-clock times move with whatever else the machine runs, so the CPU the load
adds to the server is also printed against the import's own CPU (server and workers, sampled): on
an otherwise idle machine that is the slowdown. After each loaded import the clients keep
reconnecting for ``--soak`` seconds while the server's RSS is sampled: it must stay flat (growth
under 10 MB from its lowest point after the first seconds). The load comes from this process, on
the same cores as the server and its workers, as it would from browsers on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hardening.load import LoadResult, import_under_load, soak
from tests.hardening.procs import serve
from tests.ingest.library import make_album

OUT = Path(__file__).resolve().parent / "out"


def one_run(
    library: Path, scratch: Path, *, subscribers: int, polls: float, soak_s: float
) -> tuple[LoadResult, LoadResult | None]:
    root = scratch / f"run-{time.monotonic_ns()}"
    shutil.copytree(library, root, ignore=shutil.ignore_patterns("wkmp.db*", ".complete"))
    try:
        with serve(root, scratch) as served:
            run = asyncio.run(
                import_under_load(served.url, served.proc.pid, subscribers=subscribers, polls_per_s=polls)
            )
            after = None
            if subscribers and soak_s:
                after = asyncio.run(
                    soak(
                        served.url,
                        served.proc.pid,
                        run.session_id,
                        clients=subscribers,
                        polls_per_s=polls,
                        seconds=soak_s,
                    )
                )
        return run, after
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--polls", type=float, default=50.0)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--soak", type=float, default=60.0)
    args = parser.parse_args()
    library = OUT / f"load-{args.files}x{int(args.seconds)}"
    if not (library / ".complete").exists():
        shutil.rmtree(library, ignore_errors=True)
        for n in range(0, args.files, 25):  # album folders of 25
            make_album(library, f"Artist {n // 25}/Album", min(25, args.files - n), seconds=args.seconds, seed=n)
        (library / ".complete").write_text("")
    quiet: list[float] = []
    loaded: list[float] = []
    quiet_cpu: list[tuple[float, float]] = []  # (server CPU, server + workers CPU) per import
    loaded_cpu: list[tuple[float, float]] = []
    errors: list[str] = []
    growth: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        for _ in range(args.pairs):
            run, _ = one_run(library, Path(scratch), subscribers=0, polls=0, soak_s=0)
            quiet.append(run.seconds)
            quiet_cpu.append((run.server_cpu_s, run.tree_cpu_s))
            errors += run.errors
            print(
                f"no load:   {run.seconds:6.1f} s  {run.state}; CPU: server {run.server_cpu_s:.1f} s,"
                f" server + workers {run.tree_cpu_s:.1f} s",
                flush=True,
            )
            run, after = one_run(
                library, Path(scratch), subscribers=args.subscribers, polls=args.polls, soak_s=args.soak
            )
            loaded.append(run.seconds)
            loaded_cpu.append((run.server_cpu_s, run.tree_cpu_s))
            errors += run.errors + (after.errors if after else [])
            peak = max(mb for _, mb in run.rss_mb)
            line = (
                f"loaded:    {run.seconds:6.1f} s  {run.state}, {run.polls} polls ({run.polls / run.seconds:.0f}/s),"
                f" {run.streams_completed} streams saw 'completed', server RSS peak {peak:.0f} MB;"
                f" CPU: server {run.server_cpu_s:.1f} s, server + workers {run.tree_cpu_s:.1f} s"
            )
            if after is not None:
                growth.append(after.rss_growth_mb(after_s=3.0))
                line += (
                    f"; soak {after.seconds:.0f} s: {after.streams_completed} reconnections, {after.polls} polls,"
                    f" RSS {after.rss_mb[0][1]:.0f} -> {after.rss_mb[-1][1]:.0f} MB (growth {growth[-1]:.1f} MB)"
                )
            print(line, flush=True)
    ratio = statistics.median(loaded) / statistics.median(quiet)
    print(
        f"\n{args.files} files: median import {statistics.median(quiet):.1f} s with no load,"
        f" {statistics.median(loaded):.1f} s with {args.subscribers} SSE clients + {args.polls:.0f} polls/s:"
        f" ratio {ratio:.3f} (goal < 1.10)"
    )
    extra = statistics.median(c[0] for c in loaded_cpu) - statistics.median(c[0] for c in quiet_cpu)
    whole = statistics.median(c[1] for c in quiet_cpu)
    print(
        f"CPU the load adds to the server: {extra:.1f} s per import, {100 * extra / whole:.1f} % of the"
        f" import's own CPU ({whole:.0f} s) - the slowdown on a machine with nothing else to do"
    )
    print(f"error responses: {len(errors)} {errors[:3]}; server RSS growth over the soaks: {growth} MB")
    return 0 if ratio < 1.10 and not errors and all(g < 10 for g in growth) else 1


if __name__ == "__main__":
    raise SystemExit(main())
