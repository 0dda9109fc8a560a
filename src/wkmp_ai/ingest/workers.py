"""A process pool that isolates each task: a crash or a hang costs that task, never the pool.

``concurrent.futures.ProcessPoolExecutor`` cannot do this: one dead worker breaks the whole pool and
every task in flight with it, and a hung worker cannot be killed alone. Here every worker runs one
task at a time over its own pipe, so when a worker dies or overruns its task's timeout we know
exactly which task did it; that worker is killed and replaced and the others carry on.

Workers are forked from a forkserver, which imports the pool's ``preload`` modules once (the import's
pools preload the audio stack: ~0.35 s of CPU a worker would otherwise spend on its first task,
docs/import.md), so starting or replacing one costs a fork. A worker is also
replaced after ``max_tasks`` tasks, which keeps memory flat over a long import. Each worker's address
space is capped (:data:`WORKER_ADDRESS_SPACE`): a decode that runs away — FFmpeg holds 2 bytes of
memory for every byte of an MP3 whose frames give way to a gigabyte of zeros — fails that one file
with a ``MemoryError`` instead of taking the machine's memory (a worker needs about 650 MB of address
space, 180 MB resident, for an hour of FLAC). Workers ignore SIGINT (Ctrl-C is the parent's business)
and exit by themselves when the pool's owner dies, idle or busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import multiprocessing.connection
import multiprocessing.forkserver
import os
import queue
import resource
import select
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from wkmp_ai.errors import ErrorCode, WkmpError
from wkmp_ai.heap import reuse_freed_memory

__all__ = ["WORKER_ADDRESS_SPACE", "TaskCrashed", "TaskDropped", "TaskTimedOut", "WorkerPool", "start_forkserver"]


class TaskCrashed(WkmpError):
    """The worker running the task died (segfault, abort, out of memory, killed)."""

    code = ErrorCode.DECODE_ERROR

    def __init__(self, exitcode: int | None):
        super().__init__(f"worker process died (exit code {exitcode})")
        self.exitcode = exitcode


class TaskTimedOut(WkmpError):
    """The task ran past its timeout; its worker was killed."""

    code = ErrorCode.ANALYSIS_TIMEOUT

    def __init__(self, timeout: float):
        super().__init__(f"task did not finish within {timeout:.0f} s")
        self.timeout = timeout


class TaskDropped(WkmpError):
    """The task was still waiting for a worker when the pool was told to stop everything."""

    code = ErrorCode.ANALYSIS_FAILED


class RemoteError(WkmpError):
    """An exception raised in the worker that could not be sent back as itself."""

    code = ErrorCode.ANALYSIS_FAILED


WORKER_ADDRESS_SPACE = 2 << 30  # bytes; three times what the largest analysis needs


def _leave_with(owner: int) -> None:
    """End this worker as soon as the process that owns the pool ends, even in the middle of a task.

    The closed pipe tells an idle worker; a busy one would finish its file first (many seconds for a
    fresh worker's first file on a loaded machine) and a killed import would leave it behind. The
    forkserver is the worker's parent, so ``PR_SET_PDEATHSIG`` cannot help; a pidfd becomes readable
    when the owner exits (also while it is an unreaped zombie)."""

    def watch() -> None:
        try:
            fd = os.pidfd_open(owner)
        except ProcessLookupError:
            os._exit(0)
        except OSError:  # a kernel without pidfds: look every half second
            while True:
                try:
                    os.kill(owner, 0)
                except ProcessLookupError:
                    os._exit(0)
                time.sleep(0.5)
        select.select([fd], [], [])
        os._exit(0)

    threading.Thread(target=watch, name="wkmp-ai-owner-watch", daemon=True).start()


def _worker_main(conn: mp.connection.Connection, address_space: int | None = None, owner: int | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if owner:
        _leave_with(owner)
    if address_space:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    reuse_freed_memory()  # tasks decode file after file: keep their freed buffers (wkmp_ai.heap)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        fn, args, kwargs = task
        try:
            reply: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except BaseException as exc:
            reply = ("err", exc)
        try:
            conn.send(reply)
        except Exception as exc:  # the result or the exception would not pickle
            conn.send(("err", RemoteError(f"{type(reply[1]).__name__}: {reply[1]!s} ({exc})")))


def start_forkserver(preload: Sequence[str] = ()) -> None:
    """Start the forkserver that pools fork their workers from now, not at a pool's first worker.

    It loads its ``preload`` on another core while the caller goes on (``wkmp-ai import`` loads its
    own modules meanwhile: ~0.4 s of preload beside ~0.65 s of the command's imports). A pool made
    later with the same ``preload`` forks from this server; one with another preload would too, since
    there is one forkserver per process. If it cannot start now, the pool's first worker tries again
    and reports the failure where the import reports a pool's.
    """
    mp.get_context("forkserver").set_forkserver_preload(list(preload))
    with contextlib.suppress(OSError):
        multiprocessing.forkserver.ensure_running()


@dataclass(eq=False)
class _Worker:
    process: mp.process.BaseProcess
    conn: mp.connection.Connection
    tasks_done: int = 0
    busy: bool = False


@dataclass(eq=False)
class _Job:
    task: tuple[Any, ...]  # (fn, args, kwargs)
    timeout: float
    future: Future[tuple[str, Any]]
    on_start: Callable[[int], None] | None
    loop: asyncio.AbstractEventLoop
    generation: int  # the pool's cancel_all count when queued: a later cancel_all drops it


class WorkerPool:
    """``size`` workers, each fed from one queue of tasks by a thread of its own.

    The thread sends its worker the next queued task the moment the last reply arrives, so a worker
    never waits for the event loop between tasks (a hand-off through the loop took ~2.5 ms a file,
    docs/import.md); a caller that keeps a task queued for each worker keeps them all busy."""

    def __init__(
        self,
        size: int,
        *,
        preload: Sequence[str] = (),
        max_tasks: int = 100,
        address_space: int | None = WORKER_ADDRESS_SPACE,
    ):
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.size = size
        self.max_tasks = max_tasks
        self.address_space = address_space
        self._ctx = mp.get_context("forkserver")
        if preload:
            self._ctx.set_forkserver_preload(list(preload))
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._feeders: list[threading.Thread] = []
        self._starting = asyncio.Lock()
        self._all: set[_Worker] = set()
        self._generation = 0
        self._closed = False
        self.crashes = 0
        self.timeouts = 0

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker_main, args=(child, self.address_space, os.getpid()), daemon=True, name="wkmp-ai-worker"
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self._all.add(worker)
        return worker

    def _retire(self, worker: _Worker, *, kill: bool) -> None:
        self._all.discard(worker)
        if kill and worker.process.is_alive():
            worker.process.kill()
        else:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        worker.process.join(timeout=5)
        worker.conn.close()

    async def start(self) -> None:
        """Start the workers and their threads now (else the first ``run`` does)."""
        async with self._starting:
            while len(self._feeders) < self.size and not self._closed:
                worker = await asyncio.to_thread(self._spawn)
                index = len(self._feeders)
                feeder = threading.Thread(target=self._feed, args=(index, worker), name=f"wkmp-pool-{index}")
                feeder.daemon = True  # a pool never closed must not hold the interpreter open
                self._feeders.append(feeder)
                feeder.start()

    async def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        timeout: float,
        on_start: Callable[[int], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` in a worker; raise its exception, TaskCrashed, TaskTimedOut or
        TaskDropped. ``on_start(worker_index)`` is called on the event loop when a worker takes the
        task. Cancelling the call drops the task if it is still queued; a running one runs to its end."""
        if self._closed:
            raise RuntimeError("pool is closed")
        if len(self._feeders) < self.size:
            await self.start()
        job = _Job((fn, args, kwargs), timeout, Future(), on_start, asyncio.get_running_loop(), self._generation)
        self._jobs.put(job)
        status, value = await asyncio.wrap_future(job.future)
        if status == "ok":
            return value
        raise value

    def _feed(self, index: int, worker: _Worker | None) -> None:
        """Thread ``index``: run each task it takes on its worker. A worker that died, overran or did
        its ``max_tasks`` is replaced before the task is answered: the pool is whole when it is."""
        while (job := self._jobs.get()) is not None:
            if not job.future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            outcome: tuple[str, Any] | BaseException
            try:
                if worker is None:  # the last replacement failed: try again, for this task
                    worker = self._spawn()
                outcome = self._run_on(index, worker, job)
            except Exception as exc:
                outcome = exc
            if worker is not None and (
                worker.busy or worker.tasks_done >= self.max_tasks or not worker.process.is_alive()
            ):
                self._retire(worker, kill=True)
                worker = None
                if not self._closed:
                    with contextlib.suppress(Exception):
                        worker = self._spawn()
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)
        if worker is not None:
            self._retire(worker, kill=False)

    def _run_on(self, index: int, worker: _Worker, job: _Job) -> tuple[str, Any]:
        worker.busy = True  # before the checks: a cancel_all or close after them kills this worker
        if self._closed or job.generation != self._generation:
            worker.busy = False
            raise TaskDropped("stopped before this task's turn")
        if job.on_start is not None:
            job.loop.call_soon_threadsafe(job.on_start, index)
        reply = self._exchange(worker, job.task, job.timeout)
        worker.busy = False
        worker.tasks_done += 1
        return reply

    def _exchange(self, worker: _Worker, task: tuple[Any, ...], timeout: float) -> tuple[str, Any]:
        try:
            worker.conn.send(task)
            if not worker.conn.poll(timeout):
                self.timeouts += 1
                worker.process.kill()
                raise TaskTimedOut(timeout)
            return worker.conn.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError, BrokenPipeError):
            worker.process.join(timeout=5)
            self.crashes += 1
            raise TaskCrashed(worker.process.exitcode) from None

    def _drop_queued(self, exc: BaseException) -> None:
        stops = 0
        with contextlib.suppress(queue.Empty):
            while True:
                job = self._jobs.get_nowait()
                if job is None:
                    stops += 1  # close's word to a feeding thread: passed on
                elif job.future.set_running_or_notify_cancel():
                    job.future.set_exception(exc)
        for _ in range(stops):
            self._jobs.put(None)

    def cancel_all(self) -> int:
        """Drop every queued task (TaskDropped) and kill every worker running one (TaskCrashed; the
        worker is replaced): how an import stops at once. Returns how many were running."""
        self._generation += 1
        self._drop_queued(TaskDropped("stopped before this task's turn"))
        busy = [w for w in list(self._all) if w.busy]
        for worker in busy:
            if worker.process.is_alive():
                os.kill(worker.process.pid or 0, signal.SIGKILL)
        return len(busy)

    def pids(self) -> list[int]:
        return [w.process.pid for w in list(self._all) if w.process.pid]

    async def close(self) -> None:
        """Stop every worker, all at once (an idle one takes tens of ms to exit: its audio stack's
        teardown). A task still queued or running fails."""
        self._closed = True
        async with self._starting:
            self._drop_queued(RuntimeError("pool is closed"))
            for worker in list(self._all):
                if worker.busy:
                    worker.process.kill()
            for _ in self._feeders:
                self._jobs.put(None)
            for feeder in self._feeders:  # each retires its worker meanwhile, so they end together
                await asyncio.to_thread(feeder.join)
