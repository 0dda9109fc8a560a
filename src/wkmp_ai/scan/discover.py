"""Discovery: walk the import folder, then verify the candidates by their magic bytes.

Two phases, as the design has it: the walk is sequential (it owns the set of visited
folders); verification runs in parallel, chunk by chunk, while the walk goes on.

Parallel means worker *processes*. Measured on a warm 50,000-file tree (2 cores): verifying in
the calling thread took 1.1-1.4 s, two threads 3.5-4.5 s (each file is four tiny syscalls and
some Python; the threads spend their time handing the GIL back and forth), two forked processes
0.6-0.9 s. Small trees are verified inline: below :data:`_CHUNK` candidates a pool costs more
than it saves. A caller that owns a process pool can pass it as ``executor``; one that would let
discovery start a pool when the tree is worth it passes ``pools`` (the import's
:func:`wkmp_ai.ingest.pool.process_pool`). Without either, everything is verified inline.

Callers that already know some files (the incremental rescan) pass ``known``: a file whose size
and mtime still match is only stat'ed, never opened.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future
from typing import cast

from wkmp_ai.errors import ErrorCode
from wkmp_ai.records.scan import DiscoveredFile, Discovery, OtherFile, ScanWarning
from wkmp_ai.scan.formats import sniff_file, sniff_names
from wkmp_ai.scan.walk import Walk

__all__ = ["DiscoveredFile", "Discovery", "KnownFile", "OtherFile", "ScanWarning", "discover", "iter_discover"]

_CHUNK = 2000  # candidates per task
_MAX_PENDING = 16  # tasks in flight; bounds memory on huge trees
DEFAULT_WORKERS = max(1, min(os.cpu_count() or 1, 4))

KnownFile = tuple[int, int, "str | None"]
"""(size, mtime_ns, format) of a file the caller already holds, keyed by root-relative path;
format None: the caller knows it is not audio."""

# A task is a list of folders: (canonical path, root-relative path, file names, what the caller
# knows of each name or None). A worker answers, for each interesting file: (folder index, name
# index, format or marker, size, mtime_ns, error). Files that are not audio are left out unless
# the caller asked for them.
_Task = list[tuple[str, str, list[str], list[KnownFile | None] | None]]
_Outcome = tuple[int, int, str | None, int, int, str | None]
_UNCHANGED = "\x00unchanged"  # known audio file, same size and mtime
_OTHER = "\x00other"  # not audio
_OTHER_UNCHANGED = "\x00other-unchanged"  # known not to be audio, same size and mtime


def _verify_task(task: _Task, want_others: bool = False) -> list[_Outcome]:
    """Verify one task; runs in a worker process (or inline). Must stay picklable and pure."""
    if not want_others and all(known is None for _, _, _, known in task):
        return _verify_new(task)
    out: list[_Outcome] = []
    append = out.append
    for folder_index, (folder, _, names, known) in enumerate(task):
        prefix = folder + os.sep if folder != os.sep else folder
        for name_index, name in enumerate(names):
            path = prefix + name
            try:
                if known is not None and (prior := known[name_index]) is not None:
                    st = os.stat(path)
                    if st.st_size == prior[0] and st.st_mtime_ns == prior[1]:
                        if prior[2] is not None:
                            append((folder_index, name_index, _UNCHANGED, st.st_size, st.st_mtime_ns, None))
                        elif want_others:
                            append((folder_index, name_index, _OTHER_UNCHANGED, st.st_size, st.st_mtime_ns, None))
                        continue
                fmt, fst = sniff_file(path, always_stat=want_others)
            except OSError as exc:
                append((folder_index, name_index, None, 0, 0, exc.strerror or str(exc)))
                continue
            if fmt is not None or want_others:
                append((folder_index, name_index, fmt or _OTHER, fst.st_size, fst.st_mtime_ns, None))  # type: ignore[union-attr]
    return out


def _verify_new(task: _Task) -> list[_Outcome]:
    """:func:`_verify_task` for files nobody knows yet (the first scan's hot loop)."""
    out: list[_Outcome] = []
    for folder_index, (folder, _, names, _known) in enumerate(task):
        prefix = folder + os.sep if folder != os.sep else folder
        out.extend((folder_index, *found) for found in sniff_names(prefix, names))
    return out


class _Run:
    """State of one discovery: the walk, what came back, and where results are yielded from."""

    def __init__(self, import_dir: str, root: str, known: Mapping[str, KnownFile] | None, lost: list[str]):
        self.walk_warnings: list[ScanWarning] = []
        self.walk = Walk(import_dir, root, self.walk_warnings.append)
        self.known = known
        self.lost = lost
        self.seen: set[str] = set()
        self.walk_done = False

    def tasks(self) -> Iterator[tuple[_Task, int]]:
        """Tasks of about :data:`_CHUNK` files, each with how many of its files must be opened.
        ``walk_done`` turns True before the last task is yielded."""
        task: _Task = []
        size = to_open = 0
        known = self.known
        folders = self.walk.folders()
        pending = next(folders, None)
        while pending is not None:
            folder, pending = pending, next(folders, None)
            if known is None:
                hints = None
                to_open += len(folder.names)
            else:
                hints = [known.get(folder.rel + name) for name in folder.names]
                to_open += hints.count(None)
            task.append((folder.path, folder.rel, folder.names, hints))
            size += len(folder.names)
            if pending is None:
                self.walk_done = True
            if size >= _CHUNK or pending is None:
                yield task, to_open
                task, size, to_open = [], 0, 0

    def results(self, task: _Task, outcomes: list[_Outcome]) -> Iterator[DiscoveredFile | OtherFile | ScanWarning]:
        yield from self.flush_warnings()
        for folder_index, name_index, fmt, size, mtime_ns, error in outcomes:
            folder, rel_folder, names, hints = task[folder_index]
            name = names[name_index]
            rel = rel_folder + name
            if error is not None:
                self.lost.append(rel)
                yield ScanWarning(ErrorCode.FILE_UNREADABLE, rel, error)
            elif rel not in self.seen:  # the same file reached through a link and directly
                self.seen.add(rel)
                path = (folder + os.sep if folder != os.sep else folder) + name
                if fmt in (_OTHER, _OTHER_UNCHANGED):
                    yield OtherFile(rel, size, mtime_ns, fmt == _OTHER_UNCHANGED)
                elif fmt == _UNCHANGED:
                    prior_format = hints[name_index][2]  # type: ignore[index]
                    yield DiscoveredFile(path, rel, size, mtime_ns, cast(str, prior_format), True)
                else:
                    yield DiscoveredFile(path, rel, size, mtime_ns, fmt)  # type: ignore[arg-type]

    def flush_warnings(self) -> Iterator[ScanWarning]:
        while self.walk_warnings:
            yield self.walk_warnings.pop(0)


def iter_discover(
    import_dir: os.PathLike[str] | str,
    root: os.PathLike[str] | str,
    *,
    known: Mapping[str, KnownFile] | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    pools: Callable[[int], Executor] | None = None,
    unreadable: list[str] | None = None,
    want_others: bool = False,
) -> Iterator[DiscoveredFile | OtherFile | ScanWarning]:
    """Stream the audio files and warnings under ``import_dir`` (which must lie inside ``root``).

    Files come in no particular order. Root-relative paths that could not be read (folders end
    with ``/``) are appended to ``unreadable`` when given. ``workers`` ≤ 1 verifies inline;
    ``pools(workers)`` starts the pool this run owns, when given and worth it.
    ``want_others``: also yield an :class:`OtherFile` for each file that is not audio (a caller
    that remembers them, with ``known`` format None, never reads them again while unchanged).
    Raises ValueError when ``import_dir`` is outside ``root``.
    """
    run = _Run(os.fspath(import_dir), os.fspath(root), known, [] if unreadable is None else unreadable)
    workers = DEFAULT_WORKERS if workers is None else workers
    pool: Executor | None = executor
    own_pool = False
    in_flight: deque[tuple[_Task, Future[list[_Outcome]]]] = deque()
    try:
        for task, to_open in run.tasks():
            # Files to open are worth a worker process; files the caller knows are only stat'ed,
            # which is cheaper here than a trip to a worker. A tree of one task never pays for a pool.
            if to_open < _CHUNK // 10 or (pool is None and (pools is None or workers <= 1 or run.walk_done)):
                yield from run.results(task, _verify_task(task, want_others))
                continue
            if pool is None and pools is not None:
                pool, own_pool = pools(workers), True
            assert pool is not None
            in_flight.append((task, pool.submit(_verify_task, task, want_others)))
            while in_flight and (len(in_flight) >= _MAX_PENDING or in_flight[0][1].done()):
                done_task, future = in_flight.popleft()
                yield from run.results(done_task, future.result())
        # The walk is over: rather than wait, this process takes back the tasks no worker has
        # started yet (the newest first) and verifies them itself.
        while in_flight:
            last_task, last_future = in_flight[-1]
            if last_future.cancel():
                in_flight.pop()
                yield from run.results(last_task, _verify_task(last_task, want_others))
            else:
                done_task, future = in_flight.popleft()
                yield from run.results(done_task, future.result())
    finally:
        if own_pool and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    run.lost.extend(run.walk.unreadable)
    yield from run.flush_warnings()


def discover(
    import_dir: os.PathLike[str] | str,
    root: os.PathLike[str] | str,
    *,
    known: Mapping[str, KnownFile] | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    pools: Callable[[int], Executor] | None = None,
    want_others: bool = False,
    on_file: Callable[[int], None] | None = None,
) -> Discovery:
    """Every audio file under ``import_dir`` (sorted by root-relative path) and what was met on the way.
    ``on_file(n)`` is called as the n-th audio file is found (for a live count).

    Never raises for what it finds in the tree: unreadable folders and files, loops and links out
    of the root become warnings. Raises ValueError when ``import_dir`` is outside ``root``.
    """
    files: list[DiscoveredFile] = []
    warnings: list[ScanWarning] = []
    others: list[OtherFile] = []
    unreadable: list[str] = []
    items = iter_discover(
        import_dir, root, known=known, workers=workers, executor=executor, pools=pools, unreadable=unreadable,
        want_others=want_others,
    )  # fmt: skip
    for item in items:
        if isinstance(item, DiscoveredFile):
            files.append(item)
            if on_file is not None:
                on_file(len(files))
        elif isinstance(item, OtherFile):
            others.append(item)
        else:
            warnings.append(item)
    files.sort(key=lambda f: f.rel_path)
    return Discovery(files=files, warnings=warnings, unreadable=unreadable, others=others)
