"""The import pipeline: scan, every file through one decode in a worker, written whole, then identified.

    SCANNING    sync_library (discovery, then folder by folder: hashing, tags, art, written) → each
                folder's files that need work, handed over as soon as the folder is written
    PROCESSING  from the first folder handed over, while the scan goes on (docs/import.md, *Scan
                and analysis overlap*); for each file, ``import_parallelism`` at a time:
                  worker process: analyze_file (one decode → passages, lead-in/out, fingerprints, flavor)
                  writer thread:  passages + import state + art rows + identification request, one txn
                  (the worker takes its next file meanwhile; 2 × parallelism files in flight at most)
                when a folder's files are all written: its album groups are identified (event loop,
                rate-limited, cached) and each group's rows are written in one transaction
                finally: files left pending by earlier runs (offline, no key) are identified
    COMPLETED   (CANCELLED on request, FAILED on a critical error; committed work is kept)

The CPU work (decode, DSP) runs in the worker pool; identification and the scan's reading overlap
it in the event loop and threads, so the workers never wait for the network or for the whole scan.
Only file paths are held for the whole run; each file's results are written and dropped as soon as
they arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from wkmp_ai.config import Settings
from wkmp_ai.db import editor as editor_queries
from wkmp_ai.db import files as file_queries
from wkmp_ai.db import identify as identify_queries
from wkmp_ai.db import imports as q
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.db.connection import Database
from wkmp_ai.db.history import close_interrupted
from wkmp_ai.errors import ErrorCode, IngestError, Severity
from wkmp_ai.events import utc_now_iso
from wkmp_ai.identify.identifier import Identifier, make_limiters
from wkmp_ai.ingest import history
from wkmp_ai.ingest.identify import identify_and_write
from wkmp_ai.ingest.library import ScanProgress, ScanReport, sync_library
from wkmp_ai.ingest.manager import SessionManager
from wkmp_ai.ingest.phases import Phase
from wkmp_ai.ingest.ripindex import disc_toc, passage_texts, tracks_of
from wkmp_ai.ingest.rootfiles import save_album_art
from wkmp_ai.ingest.session import ImportSession, State
from wkmp_ai.ingest.tasks import WORKER_PRELOAD, analyse_file
from wkmp_ai.ingest.workers import TaskCrashed, TaskTimedOut, WorkerPool
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.analysis import FileAnalysis
from wkmp_ai.records.identify import (
    AlbumIdentification,
    FileTags,
    FileToIdentify,
    PassageToIdentify,
    group_files,
    group_key,
)
from wkmp_ai.records.scan import Tags
from wkmp_ai.records.trackindex import IndexedTrack
from wkmp_ai.scan.names import display_metadata
from wkmp_ai.scan.walk import folder_and_name

__all__ = ["PROGRESS_INTERVAL_S", "ImportService", "analysis_timeout", "worker_count"]

log = logging.getLogger(__name__)
T = TypeVar("T")
PROGRESS_INTERVAL_S = 2.0
EDIT_KEPT_MESSAGE = "the file changed on disk; its passages were edited by hand and are kept as edited"
IDENTIFY_CONCURRENCY = 4  # album groups identified at once; the rate limiters pace the requests
HAND_OVER_AHEAD = 2  # folders the scan may have written and handed over before the workers reach them


def analysis_timeout(duration_s: float | None) -> float:
    """How long one file's analysis may take before it counts as hung (ANALYSIS_TIMEOUT).

    Analysis runs at a few hundred times real time; this allows thirty times the expected cost.
    """
    return 600.0 if not duration_s else 30.0 + 0.1 * duration_s


def worker_count(params: dict[str, Any]) -> int:
    """Files analysed at once: ``import_parallelism``, but never more than the CPU cores, since the
    work is CPU-bound and extra workers would only add memory and contention."""
    return max(1, min(int(params["import_parallelism"]), os.cpu_count() or 1))


class _ScanCancelled(Exception):
    pass


class ImportService:
    """What an import needs for its whole life: the session manager, the worker pool, the writer
    thread and the rate limiters (shared across sessions, so back-to-back imports stay polite)."""

    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        self.db = db
        self.sessions = SessionManager(self._run)
        self.limiters = make_limiters(settings)
        self.writer = Writer(db)
        self._pool: WorkerPool | None = None
        self._task_pool: WorkerPool | None = None  # for run_task
        self._pool_lock = asyncio.Lock()
        self._recorders: set[asyncio.Task[None]] = set()
        try:
            with db.write() as conn:  # an import a crash or kill -9 left without an end (before any writer work)
                close_interrupted(conn, utc_now_iso())
        except IngestError as exc:
            log.warning("the import history could not be updated: %s", exc.detail)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one transaction on the writer thread."""
        return await self.writer.write(fn, *args)

    async def pool(self, size: int) -> WorkerPool:
        async with self._pool_lock:
            if self._pool is not None and self._pool.size != size:
                await self._pool.close()
                self._pool = None
            if self._pool is None:
                self._pool = WorkerPool(size, preload=WORKER_PRELOAD)
                await self._pool.start()
            return self._pool

    async def run_task(self, fn: Callable[..., T], *args: Any, timeout: float) -> T:
        """Run ``fn(*args)`` in a worker process of its own (no DSP runs in the server's process).

        One worker, started on first use and kept: a request never waits behind an import's files,
        never resizes the import's pool under it, and pays for loading the audio stack once.
        """
        async with self._pool_lock:
            if self._task_pool is None:
                self._task_pool = WorkerPool(1, preload=WORKER_PRELOAD)
                await self._task_pool.start()
        result: T = await self._task_pool.run(fn, *args, timeout=timeout)
        return result

    async def _run(self, session: ImportSession) -> None:
        try:  # the history is a record of the import, never a reason for it to fail
            await self.write(history.start_record, session)
        except IngestError as exc:
            log.warning("import %s: its history row could not be written: %s", session.id, exc.detail)
        recorder = asyncio.create_task(history.wait_and_record(session, self.write))
        self._recorders.add(recorder)
        recorder.add_done_callback(self._recorders.discard)
        await _ImportRun(self, session).run()

    async def close(self) -> None:
        await self.sessions.shutdown()
        await asyncio.gather(*list(self._recorders), return_exceptions=True)
        for pool in (self._pool, self._task_pool):
            if pool is not None:
                await pool.close()
        self._pool = self._task_pool = None
        self.writer.close()


@dataclass
class _Folder:
    """The files of one folder in this run; identified together once all have been written."""

    name: str
    dispatched: int = 0
    finished: int = 0
    closed: bool = False
    ready: list[FileToIdentify] = field(default_factory=list)


class _ImportRun:
    def __init__(self, service: ImportService, session: ImportSession):
        self.service = service
        self.session = session
        self.params = session.parameters
        self.prefix = _relative(session.root_folder, session.import_dir)
        self.folders: dict[str, _Folder] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.identify_tasks: set[asyncio.Task[None]] = set()
        self.identify_gate = asyncio.Semaphore(IDENTIFY_CONCURRENCY)
        self.identifier: Identifier | None = None
        self.pool: WorkerPool | None = None
        self.pool_ready: asyncio.Task[WorkerPool] | None = None
        self.written_ids: set[str] = set()
        self.art_reported: set[str] = set()
        # The scan hands over a folder's work at a time (None: no more); it waits for room first.
        self.handed: asyncio.Queue[list[q.WorkItem] | None] = asyncio.Queue()
        self.handed_ids: set[str] = set()
        self.waiting = 0  # files of a folder the scan has written, waiting for room to be handed over
        self.room = threading.Semaphore(HAND_OVER_AHEAD)  # released as _process takes a folder
        self.scan_stop = threading.Event()  # the run has stopped taking folders: the scan stops too

    # ---- the run ------------------------------------------------------------------------------
    async def run(self) -> None:
        session = self.session
        ticker = asyncio.create_task(self._tick())
        # The workers start while the scan runs (forked from a forkserver that may still be loading).
        self.pool_ready = asyncio.create_task(self.service.pool(worker_count(self.params)))
        scan = asyncio.create_task(self._scan())
        try:
            await asyncio.sleep(0)  # the scan's thread is reading now; meanwhile build the HTTP clients (~0.1 s)
            self.identifier = Identifier(
                self.service.settings,
                CacheReads(self.service.db),
                limiters=self.service.limiters,
            )
            first = await self.handed.get()  # the first folder with work, or None: the scan found none
            if first is None:
                if await scan is None or session.cancel_requested.is_set():  # None: cancelled during the scan
                    session.transition(State.CANCELLED)
                    return
                if not self._has_pending():
                    session.transition(State.COMPLETED)
                    return
            session.phases.phase = Phase.ANALYSIS
            session.phases.waiting_requests = lambda: {n: lim.waiting for n, lim in self.service.limiters.items()}
            session.transition(State.PROCESSING)
            session.publish_progress()
            try:
                if first is not None:
                    await self._process(first)
                await scan  # a database failure of the scan is raised here, after the files in flight
                if not self._stopping():
                    await self._identify_earlier_pending()
            finally:
                await self._stop_identification()
            if session.fatal is not None:
                session.transition(State.FAILED)
            elif session.cancel_requested.is_set():
                session.transition(State.CANCELLED)
            else:
                session.publish_progress()
                session.transition(State.COMPLETED)
        except IngestError as exc:
            if exc.severity is not Severity.CRITICAL:
                raise
            session.record_error(exc.code, exc.detail, path=exc.path)
            if not session.state.finished:
                session.transition(State.FAILED)
        finally:
            ticker.cancel()
            if not scan.done():  # the run ended before the scan: building the identifier or the processing failed
                self.scan_stop.set()
            await asyncio.gather(ticker, scan, *([self.pool_ready] if self.pool_ready else []), return_exceptions=True)
            if self.identifier is not None:
                await self.identifier.aclose()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL_S)
            if not self.session.state.finished:  # the scan's counts too: the bar never stands still
                self.session.publish_progress()

    def _stopping(self) -> bool:
        return self.session.cancel_requested.is_set() or self.session.fatal is not None

    async def _unless_cancelled(self, awaitable: Awaitable[T]) -> T | None:
        """``await awaitable``, but give it up (cancelled, None returned) as soon as a cancel is asked
        for: waiting out a network back-off or a busy worker broke the 2 s promise. Nothing is
        half-written by giving up: every write is one transaction on the writer thread."""
        work = asyncio.ensure_future(awaitable)
        stop = asyncio.ensure_future(self.session.cancel_requested.wait())
        try:
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if work.done():
            return work.result()
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        return None

    # ---- SCANNING -----------------------------------------------------------------------------
    async def _scan(self) -> ScanReport | None:
        """Run the scan; hand each folder with work to :meth:`_process` as soon as the scan has
        written it, then the files that need work in folders the scan did not read (an earlier run
        stopped before analysing them). None when cancelled. ``self.handed`` gets None at the end."""
        session = self.session
        loop = asyncio.get_running_loop()

        def on_progress(progress: ScanProgress) -> None:
            if self._stopping() or self.scan_stop.is_set():
                raise _ScanCancelled
            loop.call_soon_threadsafe(self._scan_progress, progress)

        def on_folder(folder: str, paths: frozenset[str]) -> None:  # in the scan's thread
            with self.service.db.read() as conn:
                work = [item for item in q.files_needing_work_in(conn, folder) if item.rel_path in paths]
            if not work:
                return
            loop.call_soon_threadsafe(self._waiting_for_room, len(work))
            # At most HAND_OVER_AHEAD folders wait for the workers: the scan reads a folder shortly
            # before it is decoded, so a large library's files are still in the page cache then.
            while not self.room.acquire(timeout=0.25):
                if self._stopping() or self.scan_stop.is_set():
                    raise _ScanCancelled
            loop.call_soon_threadsafe(self._hand, work)

        try:
            try:
                report = await asyncio.to_thread(
                    sync_library,
                    self.service.db,
                    session.import_dir,
                    session.root_folder,
                    on_progress=on_progress,
                    on_folder=on_folder,
                )
            except _ScanCancelled:
                return None
            session.phases.scan_done(len(report.files))
            for warning in report.warnings:
                session.record_error(warning.code, warning.message, path=warning.path)
            for paths in report.duplicates:
                session.record_error(
                    ErrorCode.DUPLICATE_CONTENT, "the same audio is stored at: " + ", ".join(paths), path=paths[0]
                )
            with self.service.db.read() as conn:
                rest = [item for item in q.files_needing_work(conn, self.prefix) if item.file_id not in self.handed_ids]
                failed_before = q.count_failed_unchanged(conn, self.prefix)
            rest.sort(key=lambda item: folder_and_name(item.rel_path))
            for _folder, items in itertools.groupby(rest, key=lambda item: folder_and_name(item.rel_path)[0]):
                self._hand(list(items))
            session.total = len(self.handed_ids)
            session.unchanged = max(0, len(report.files) - len(self.handed_ids) - failed_before)
            return report
        finally:
            self.handed.put_nowait(None)

    def _scan_progress(self, progress: ScanProgress) -> None:
        session = self.session
        if session.state is State.SCANNING:
            text = f"Scanning: {progress.phase}" + (f" {progress.done}/{progress.total}" if progress.total else "")
            session.operation = text
        session.phases.scan_progress(progress.phase, progress.done, progress.total)
        self._count_total()

    def _count_total(self) -> None:
        """While the scan runs, the total also counts the files of the folder waiting to be handed
        over and those the scan has still to read (each likely to need analysis); then it is exact."""
        phases = self.session.phases
        if phases.scan_step != "done":
            self.session.total = len(self.handed_ids) + self.waiting + max(0, phases.to_read - phases.read)

    def _waiting_for_room(self, files: int) -> None:
        self.waiting = files
        self._count_total()

    def _hand(self, work: list[q.WorkItem]) -> None:
        self.waiting = 0
        self.handed_ids.update(item.file_id for item in work)
        self._count_total()
        self.handed.put_nowait(work)

    def _has_pending(self) -> bool:
        with self.service.db.read() as conn:
            return bool(identify_queries.load_pending(conn, limit=1))

    # ---- PROCESSING ---------------------------------------------------------------------------
    async def _process(self, first: list[q.WorkItem]) -> None:
        """Analyse the folders handed over by the scan, one folder after another, each file in a worker."""
        parallelism = worker_count(self.params)
        assert self.pool_ready is not None
        self.pool = await self.pool_ready
        # Files in the pool or waiting for the writer, at most two a worker: one being analysed and one
        # queued behind it, which its worker takes the moment it is done (docs/import.md). A slow disk
        # holds the workers back instead of filling memory.
        outstanding = asyncio.Semaphore(2 * parallelism)
        batch: list[q.WorkItem] | None = first
        while batch is not None and not self._stopping():
            self.room.release()  # (the folders handed over after the scan took no room: no matter then)
            folder_name = folder_and_name(batch[0].rel_path)[0]
            if folder_name not in self.folders:
                self.session.phases.folders_waiting += 1
            folder = self.folders.setdefault(folder_name, _Folder(folder_name))
            folder.closed = False
            for item in batch:
                if await self._unless_cancelled(outstanding.acquire()) is None or self._stopping():
                    break
                folder.dispatched += 1
                task = asyncio.create_task(self._one_file(item, folder))
                task.add_done_callback(lambda _task: outstanding.release())
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            if self._stopping():
                break
            self._close_folder(folder)
            batch = await self._unless_cancelled(self.handed.get())
        if self._stopping():
            self.scan_stop.set()
            self.pool.cancel_all()  # the files in flight are dropped whole: nothing of them was written
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
        self.session.phases.phase = Phase.IDENTIFICATION
        if self.identify_tasks and not self._stopping():
            # Albums still being identified (perhaps waiting out a service's back-off): a cancel must
            # not wait for them (the 2 s promise); _stop_identification cancels what is left.
            await self._unless_cancelled(asyncio.gather(*list(self.identify_tasks), return_exceptions=True))

    async def _one_file(self, item: q.WorkItem, folder: _Folder) -> None:
        session = self.session
        request: FileToIdentify | None = None
        try:
            request = await self._analyse_and_write(item)
        except IngestError as exc:  # the writer's: the database cannot take more, so the session fails
            session.record_error(exc.code, exc.detail, path=item.rel_path)
            if self.pool is not None:
                self.pool.cancel_all()
        finally:
            folder.finished += 1
            if request is not None:
                folder.ready.append(request)
            if folder.closed and folder.finished == folder.dispatched:
                self._identify_folder(folder)

    async def _analyse_and_write(self, item: q.WorkItem) -> FileToIdentify | None:
        """Analyse one file in a worker and write it; return its identification request (None: skipped).

        The file is shown as being analysed from the moment a worker takes it until its analysis ends."""
        session = self.session
        worker: int | None = None

        def started(index: int) -> None:
            nonlocal worker
            worker = index
            session.file_started(index, item.rel_path)

        try:
            try:
                analysis = await self._analyse(str(session.root_folder / item.rel_path), item, started)
            finally:
                if worker is not None:
                    session.file_analysed(worker, item.rel_path)
        except Exception as exc:
            if self._stopping():  # killed by cancel: the file is simply not done
                return None
            code, message = _analysis_failure(exc)
            session.record_error(code, message, path=item.rel_path)
            if not _killed_from_outside(exc):  # that says nothing about the file: the next run tries again
                await self.service.write(q.mark_failed, item, code.value, message)
            session.file_finished(ok=False)
            return None
        with self.service.db.read() as conn:
            scanned = file_queries.scanned_file(conn, item.file_id)
        tags = Tags.from_json(json.loads(scanned.tags_json)) if scanned and scanned.tags_json else Tags()
        title, artist, album = display_metadata(tags, item.rel_path)
        folder = folder_and_name(item.rel_path)[0]
        create_album = bool(self.params.get("create_album_passage"))

        def write(conn: Any) -> FileToIdentify | None:
            if editor_queries.is_edited(conn, item.file_id):  # a person's edit outlives the import
                q.keep_edited_file(conn, item, analysis)
                return None
            text = q.PassageText(title, artist, album)
            ids = q.write_file_analysis(
                conn, item, analysis, text, create_album_passage=create_album, texts=passage_texts(analysis, text)
            )
            file_queries.attach_art(conn, item.file_id, passage_ids=ids)
            request = _request(item, folder, tags, analysis, ids, has_art=bool(scanned and scanned.art_path))
            identify_queries.save_pending(conn, request, group_key(folder, tags.album))
            return request

        request = await self.service.write(write)
        self.written_ids.add(item.file_id)
        if request is None:
            session.record_error(ErrorCode.MANUAL_EDIT_KEPT, EDIT_KEPT_MESSAGE, path=item.rel_path)
        count = len(analysis.passages)
        for warning in analysis.warnings:
            # Each passage of a file may warn alike: say which, or the lines read as repeats.
            index = warning.passage_index
            where = "" if index is None or count < 2 else f"passage {index + 1} of {count}: "
            session.record_error(warning.code, where + warning.message, path=item.rel_path)
        session.file_finished(ok=True, warned=bool(analysis.warnings), passages=count)
        return request

    async def _analyse(self, path: str, item: q.WorkItem, started: Callable[[int], None]) -> FileAnalysis:
        """The file's analysis from a worker. A worker killed from outside (SIGKILL: the OOM killer, an
        administrator) says nothing about the file, so the file gets one more worker; killed again, it
        is skipped for this session but not marked failed. A crash (SIGSEGV, SIGABRT) or a hang is the
        file's doing and marks it failed."""
        assert self.pool is not None
        timeout = analysis_timeout(item.duration_s)
        try:
            return await self.pool.run(  # type: ignore[no-any-return]
                analyse_file, path, self.params, timeout=timeout, on_start=started, flavor=True
            )
        except TaskCrashed as exc:
            if not _killed_from_outside(exc) or self._stopping():
                raise
            log.warning("%s: its worker was killed (SIGKILL); analysing it again", item.rel_path)
            return await self.pool.run(  # type: ignore[no-any-return]
                analyse_file, path, self.params, timeout=timeout, on_start=started, flavor=True
            )

    # ---- identification -----------------------------------------------------------------------
    def _close_folder(self, folder: _Folder) -> None:
        folder.closed = True
        if folder.finished == folder.dispatched:
            self._identify_folder(folder)

    def _identify_folder(self, folder: _Folder) -> None:
        self.session.phases.folders_waiting = max(0, self.session.phases.folders_waiting - 1)
        if not folder.ready or self._stopping():
            return
        requests, folder.ready = folder.ready, []
        groups = group_files(requests)
        self.session.phases.albums_total += len(groups)
        task = asyncio.create_task(self._identify(groups))
        self.identify_tasks.add(task)
        task.add_done_callback(self.identify_tasks.discard)

    async def _identify(self, groups: list[Any]) -> None:
        assert self.identifier is not None
        for group in groups:
            async with self.identify_gate:
                if self._stopping():
                    return
                result = await self.identifier.identify_album(group)
            result = await save_album_art(self.identifier.root_folder, result)
            await self.service.write(_write_identification, result)
            self._report_identification(result)

    def _report_identification(self, result: AlbumIdentification) -> None:
        for warning in result.warnings:
            if warning.code is ErrorCode.MISSING_ALBUM_ART:
                # One per album: the files of one release may come in several groups (a disc per
                # folder); the message names the release.
                if warning.message in self.art_reported:
                    continue
                self.art_reported.add(warning.message)
            self.session.record_error(warning.code, warning.message, path=warning.path)
        self.session.identified += len({p.file_id for p in result.passages if p.status.value == "identified"})
        self.session.phases.albums_done += 1

    async def _identify_earlier_pending(self) -> None:
        """Files an earlier run could not identify (offline, no key) get their turn now."""
        assert self.identifier is not None
        with self.service.db.read() as conn:
            pending = [(k, f) for k, f in identify_queries.load_pending(conn) if f.file_id not in self.written_ids]
        if not pending:
            return
        self.session.operation = f"Identifying {len(pending)} files left pending by earlier imports"
        self.session.phases.phase = Phase.IDENTIFICATION
        groups = group_files(request for _key, request in pending)
        self.session.phases.albums_total += len(groups)
        await self._unless_cancelled(  # each result is reported as it is written
            identify_and_write(
                self.identifier,
                self.service.writer,
                groups,
                concurrency=IDENTIFY_CONCURRENCY,
                on_result=self._report_identification,
            )
        )

    async def _stop_identification(self) -> None:
        if self._stopping():
            for task in list(self.identify_tasks):
                task.cancel()
        await asyncio.gather(*list(self.identify_tasks), return_exceptions=True)
        if self.identifier is not None:
            leftover = self.identifier.drain_cache()
            if leftover:
                with contextlib.suppress(IngestError):
                    await self.service.write(identify_queries.write_cache, leftover)


def _write_identification(conn: Any, result: AlbumIdentification) -> None:
    identify_queries.write_identification(conn, result)
    q.attach_album_art(conn, result)


def _relative(root: Path, folder: Path) -> str:
    rel = folder.resolve().relative_to(root.resolve()).as_posix()
    return "" if rel == "." else rel


def _killed_from_outside(exc: BaseException) -> bool:
    return isinstance(exc, TaskCrashed) and exc.exitcode == -signal.SIGKILL


def _analysis_failure(exc: BaseException) -> tuple[ErrorCode, str]:
    if _killed_from_outside(exc):
        return (
            ErrorCode.ANALYSIS_FAILED,
            "its analysis worker was killed from outside twice (SIGKILL, e.g. by the out-of-memory killer);"
            " the file was skipped and the next import tries it again",
        )
    if isinstance(exc, MemoryError):
        return ErrorCode.ANALYSIS_FAILED, "analysing this file took more memory than a worker may have; it was skipped"
    if isinstance(exc, IngestError):
        return exc.code, exc.detail
    if isinstance(exc, TaskTimedOut):
        return ErrorCode.ANALYSIS_TIMEOUT, f"analysis did not finish within {exc.timeout:.0f} s; the file was skipped"
    if isinstance(exc, TaskCrashed):
        return ErrorCode.DECODE_ERROR, f"the decoder crashed on this file ({exc}); the file was skipped"
    return ErrorCode.ANALYSIS_FAILED, f"analysis failed: {type(exc).__name__}: {exc}"


def _request(
    item: q.WorkItem, folder: str, tags: Tags, analysis: FileAnalysis, passage_ids: list[str], *, has_art: bool
) -> FileToIdentify:
    indexed = tracks_of(analysis)
    tracks: list[IndexedTrack | None] = list(indexed) if indexed else [None] * len(analysis.passages)
    passages = tuple(
        PassageToIdentify(
            passage_id=pid,
            fingerprint=p.fingerprint,
            duration_s=p.end_s - p.start_s,
            start_ticks=p.start_ticks,
            end_ticks=p.end_ticks,
            title=track.title if track else None,
            artist=track.performer if track else None,
            track_number=track.number if track else None,
        )
        for pid, p, track in zip(passage_ids, analysis.passages, tracks, strict=False)
    )
    rip = analysis.track_index  # a cue sheet's disc title and performer stand in for missing tags
    file_tags = FileTags.from_tags(tags, duration_s=analysis.duration_s)
    if rip:
        file_tags = replace(file_tags, album=tags.album or rip.album, album_artist=tags.album_artist or rip.performer)
    disc = disc_toc(analysis)
    return FileToIdentify(
        item.file_id,
        item.rel_path,
        folder,
        file_tags,
        passages,
        has_folder_art=has_art,
        disc_id=disc.disc_id if disc else None,
        disc_toc=disc.toc_string if disc else None,
    )
