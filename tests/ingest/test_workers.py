"""The worker pool with real processes: results, exceptions, crashes, hangs, cancellation, recycling."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

from tests.ingest import pool_tasks as T
from wkmp_ai.ingest.workers import TaskCrashed, TaskDropped, TaskTimedOut, WorkerPool


@pytest.fixture
async def pool():  # type: ignore[no-untyped-def]
    p = WorkerPool(2, max_tasks=1000)
    await p.start()
    yield p
    await p.close()


async def test_results_come_back(pool: WorkerPool) -> None:
    results = await asyncio.gather(*(pool.run(T.square, i, timeout=30) for i in range(20)))
    assert results == [i * i for i in range(20)]
    assert len(await pool.run(T.big_list, 200_000, timeout=30)) == 200_000


async def test_at_most_size_tasks_run_at_once(pool: WorkerPool) -> None:
    started = time.monotonic()
    await asyncio.gather(*(pool.run(T.sleep_then, 0.5, "x", timeout=30) for _ in range(4)))
    elapsed = time.monotonic() - started
    assert 0.95 < elapsed < 3.0  # 4 half-second tasks on 2 workers: two rounds


async def test_task_exception_is_raised_and_worker_survives(pool: WorkerPool) -> None:
    before = set(pool.pids())
    with pytest.raises(ValueError, match="bad file"):
        await pool.run(T.raise_value_error, "bad file", timeout=30)
    assert set(pool.pids()) == before
    assert await pool.run(T.square, 3, timeout=30) == 9


async def test_unpicklable_exception_still_reports(pool: WorkerPool) -> None:
    with pytest.raises(Exception, match="cannot travel"):
        await pool.run(T.raise_unpicklable, timeout=30)
    assert await pool.run(T.square, 4, timeout=30) == 16


@pytest.mark.parametrize("task", [T.segfault, T.exit_hard])
async def test_a_crash_costs_only_that_task(pool: WorkerPool, task) -> None:  # type: ignore[no-untyped-def]
    others = [pool.run(T.sleep_then, 0.3, f"ok{i}", timeout=30) for i in range(3)]
    crash = pool.run(task, timeout=30)
    results = await asyncio.gather(crash, *others, return_exceptions=True)
    assert isinstance(results[0], TaskCrashed)
    assert results[1:] == ["ok0", "ok1", "ok2"]
    assert pool.crashes == 1
    assert len(pool.pids()) == 2
    assert await pool.run(T.square, 5, timeout=30) == 25


async def test_a_hang_is_killed_at_its_timeout(pool: WorkerPool) -> None:
    started = time.monotonic()
    hang = pool.run(T.sleep_then, 60, "never", timeout=0.5)
    other = pool.run(T.sleep_then, 0.2, "fine", timeout=30)
    results = await asyncio.gather(hang, other, return_exceptions=True)
    assert isinstance(results[0], TaskTimedOut)
    assert results[1] == "fine"
    assert time.monotonic() - started < 5
    assert pool.timeouts == 1
    assert await pool.run(T.square, 6, timeout=30) == 36


async def test_cancel_all_kills_running_tasks_and_drops_queued_ones_at_once(pool: WorkerPool) -> None:
    running = [asyncio.create_task(pool.run(T.sleep_then, 30, "x", timeout=60)) for _ in range(2)]
    queued = [asyncio.create_task(pool.run(T.sleep_then, 0.1, "y", timeout=60)) for _ in range(3)]
    await asyncio.sleep(0.5)
    started = time.monotonic()
    assert pool.cancel_all() == 2
    results = await asyncio.gather(*running, *queued, return_exceptions=True)
    assert [type(r) for r in results] == [TaskCrashed] * 2 + [TaskDropped] * 3
    assert time.monotonic() - started < 2
    assert len(pool.pids()) == 2  # both replaced
    assert await pool.run(T.square, 7, timeout=30) == 49


async def test_a_worker_takes_its_next_task_without_waiting_for_the_event_loop() -> None:
    """The loop is blocked while the first task ends: the queued one starts anyway, at once."""
    pool = WorkerPool(1)
    try:
        first = asyncio.create_task(pool.run(T.timed_sleep, 0.3, timeout=30))
        second = asyncio.create_task(pool.run(T.timed_sleep, 0.0, timeout=30))
        await asyncio.sleep(0.1)  # both queued, the first running
        time.sleep(0.6)  # the event loop does nothing meanwhile
        (_, first_ended), (second_began, _) = await first, await second
    finally:
        await pool.close()
    assert 0 <= second_began - first_ended < 0.05


async def test_on_start_names_the_worker_when_it_takes_the_task() -> None:
    pool = WorkerPool(2)
    seen: list[tuple[str, int, float]] = []
    try:
        runs = [
            pool.run(
                T.timed_sleep, 0.2, timeout=30, on_start=lambda index, n=n: seen.append((n, index, time.monotonic()))
            )
            for n in "abc"
        ]
        a, b, _c = await asyncio.gather(*runs)
    finally:
        await pool.close()
    assert sorted(name for name, _, _ in seen) == ["a", "b", "c"]
    workers = {name: index for name, index, _ in seen}
    assert {workers["a"], workers["b"]} == {0, 1}  # two at once, one on each worker
    assert workers["c"] in (0, 1)
    began_c = next(t for name, _, t in seen if name == "c")
    assert began_c >= min(a[1], b[1]) - 0.01  # c waited for a worker to be free


async def test_a_cancelled_call_never_runs_if_it_was_still_queued() -> None:
    pool = WorkerPool(1)
    try:
        busy = asyncio.create_task(pool.run(T.sleep_then, 0.3, "busy", timeout=30))
        await asyncio.sleep(0.1)
        started: list[int] = []
        waiting = asyncio.create_task(pool.run(T.pid_of_worker, timeout=30, on_start=lambda _i: started.append(1)))
        await asyncio.sleep(0.05)
        waiting.cancel()
        assert await busy == "busy"
        assert await pool.run(T.square, 8, timeout=30) == 64
    finally:
        await pool.close()
    assert waiting.cancelled() and started == []


async def test_workers_are_recycled_after_max_tasks() -> None:
    pool = WorkerPool(1, max_tasks=3)
    try:
        pids = [await pool.run(T.pid_of_worker, timeout=30) for _ in range(7)]
    finally:
        await pool.close()
    assert len(set(pids)) == 3  # 3 + 3 + 1
    assert pids[0] == pids[2] != pids[3]


async def test_close_leaves_no_processes() -> None:
    pool = WorkerPool(2)
    await pool.start()
    processes = [w.process for w in pool._all]
    await pool.close()
    assert all(not p.is_alive() for p in processes)


OWNER = """
import asyncio, sys
from tests.ingest import pool_tasks as T
from wkmp_ai.ingest.workers import WorkerPool

async def main():
    pool = WorkerPool(1)
    run = asyncio.ensure_future(pool.run(T.sleep_then, 120, "late", timeout=300))
    await asyncio.sleep(0.5)
    print(*(w.process.pid for w in pool._all), flush=True)
    await run

asyncio.run(main())
"""


def test_a_busy_worker_leaves_when_its_owner_is_killed() -> None:
    """kill -9 of the process that owns the pool while a worker is in the middle of a long task: the
    worker must not finish the task first (a fresh worker's first file takes many seconds under load)."""
    import os
    import signal

    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True)
    try:
        worker_pid = int(owner.stdout.readline())  # type: ignore[union-attr]
        os.kill(worker_pid, 0)  # busy sleeping for 120 s
        owner.kill()
        owner.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(worker_pid, 0)
            except ProcessLookupError:
                return
            if _is_zombie(worker_pid):
                return
            time.sleep(0.05)
        os.kill(worker_pid, signal.SIGKILL)
        raise AssertionError("the busy worker outlived its killed owner by 5 s")
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.communicate()


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return False


PRELOADED = """
import asyncio, json, sys
from tests.ingest import pool_tasks as T
from wkmp_ai.ingest.tasks import WORKER_PRELOAD
from wkmp_ai.ingest.workers import WorkerPool

async def main():
    pool = WorkerPool(1, max_tasks=1, preload=WORKER_PRELOAD if sys.argv[1] == "preload" else ())
    try:
        # max_tasks=1: the second answer comes from a replacement worker, forked from the same server
        names = ("wkmp_ai.audio.analyze", "numpy", "av")
        print(json.dumps([await pool.run(T.loaded, names, timeout=60) for _ in range(2)]))
    finally:
        await pool.close()
    print(json.dumps([m for m in ("numpy", "av") if m in sys.modules]))  # the pool's owner stays small

asyncio.run(main())
"""


@pytest.mark.parametrize("preload", ["preload", "none"])
def test_workers_start_with_the_audio_stack_preloaded(preload: str) -> None:
    in_workers, in_owner = (json.loads(line) for line in _python(PRELOADED, preload).splitlines())
    expected = ["wkmp_ai.audio.analyze", "numpy", "av"] if preload == "preload" else []
    assert in_workers == [expected, expected]
    assert in_owner == []


STARTED_EARLY = """
import asyncio, json, time
import multiprocessing.forkserver as forkserver
from tests.ingest import pool_tasks as T
from wkmp_ai.ingest.tasks import WORKER_PRELOAD
from wkmp_ai.ingest.workers import WorkerPool, start_forkserver

began = time.monotonic()
start_forkserver(WORKER_PRELOAD)
returned_after = time.monotonic() - began
server = forkserver._forkserver._forkserver_pid

async def main():
    pool = WorkerPool(1, preload=WORKER_PRELOAD)
    try:
        parent = await pool.run(T.parent_pid, timeout=60)
        names = await pool.run(T.loaded, ("wkmp_ai.audio.analyze", "numpy"), timeout=60)
    finally:
        await pool.close()
    print(json.dumps([returned_after, parent == server, names]))

asyncio.run(main())
"""


def test_a_forkserver_started_early_loads_in_the_background_and_serves_the_pool() -> None:
    """``wkmp-ai import`` starts the workers' forkserver first: the call returns at once (the ~0.4 s
    preload runs in the server), and the import's pool later forks its workers from that server."""
    returned_after, forked_by_it, names = json.loads(_python(STARTED_EARLY))
    assert returned_after < 0.3
    assert forked_by_it is True
    assert names == ["wkmp_ai.audio.analyze", "numpy"]


def test_a_preload_that_fails_to_import_leaves_the_forkserver_alive() -> None:
    """Python's forkserver survives only an ImportError in a preloaded module: ours swallows any
    error, and the worker loads (and fails on) the module on its first task instead."""
    script = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "wkmp_ai.audio.analyze":
            raise OSError("libchromaprint.so.1: cannot open shared object file")
sys.meta_path.insert(0, Refuse())
import wkmp_ai.ingest.preload
print("wkmp_ai.audio.analyze" in sys.modules, "wkmp_ai.scan.findindex" in sys.modules)
"""
    assert _python(script).split() == ["False", "True"]


def _python(script: str, *args: str) -> str:
    """What ``script`` prints, run in a fresh interpreter (which must exit 0)."""
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout
