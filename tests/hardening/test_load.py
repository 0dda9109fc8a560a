"""Load (issue 16, standing test): 100 SSE clients and 50 status polls a second follow an import on a
real ``wkmp-ai serve``; then the same clients reconnect over and over for a soak. No error response,
every stream sees ``completed``, the polls keep their pace, the server's memory stays flat.
``benchmarks/bench_load.py`` does it with 500 files and measures the slowdown against no load.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.hardening.load import import_under_load, soak
from tests.hardening.procs import serve
from tests.ingest.library import make_album

pytestmark = pytest.mark.slow

SUBSCRIBERS = 100
POLLS_PER_S = 50


def test_100_sse_clients_and_50_polls_a_second_during_an_import(tmp_path: Path) -> None:
    root = tmp_path / "music"
    make_album(root, "Loaded", 24, seconds=4.0)
    with serve(root, tmp_path) as served:
        run = asyncio.run(
            import_under_load(served.url, served.proc.pid, subscribers=SUBSCRIBERS, polls_per_s=POLLS_PER_S)
        )
        assert run.errors == [], run.errors[:5]
        assert run.state == "COMPLETED"
        assert run.streams_completed == SUBSCRIBERS
        # the load was applied (the client shares two cores with the server and its workers: half the rate at least)
        assert run.polls >= 0.5 * POLLS_PER_S * run.seconds, (run.polls, run.seconds)
        after = asyncio.run(
            soak(served.url, served.proc.pid, run.session_id, clients=SUBSCRIBERS, polls_per_s=POLLS_PER_S, seconds=6)
        )
        assert after.errors == [], after.errors[:5]
        assert after.streams_completed >= SUBSCRIBERS  # every client got through at least once
        growth = after.rss_growth_mb(after_s=2.0)
        assert growth < 15, f"server RSS grew {growth:.1f} MB over a {after.seconds:.0f} s soak"
    peak = max(mb for _, mb in run.rss_mb)
    print(
        f"\nimport of 24 files under load: {run.seconds:.1f} s, {run.polls} polls, {run.events} SSE events, "
        f"server RSS peak {peak:.0f} MB; soak: {after.streams_completed} reconnections, {after.polls} polls, "
        f"RSS {after.rss_mb[0][1]:.0f} -> {after.rss_mb[-1][1]:.0f} MB"
    )
