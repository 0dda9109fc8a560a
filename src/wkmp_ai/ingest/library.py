"""The incremental library scan: discovery, hashing, tags and cover art, written to ``files``.

How a rescan decides (docs/scan.md, *How a rescan decides*):

1. A file whose path, size and mtime match its row is *unchanged*: it is stat'ed, never opened.
2. Any other audio file is hashed. Known path, same hash: only its size/mtime are recorded
   (*unchanged*). Known path, new hash: tags and art are read again (*updated*; its passages are
   the import session's business).
3. A new path whose hash equals that of a row whose file is gone is a *move*: the row keeps its
   guid, passages and links and takes the new path.
4. Rows under the scanned folder whose file is gone are *removed* (passages and links cascade),
   except under a folder or file that could not be read, and except when the whole folder came
   back empty while rows remain (an unmounted disk must not empty the library).
5. The same bytes at two paths are reported as duplicates (both rows are kept).

The new and changed files are read folder by folder. With ``on_folder``, each folder's rows are
written as soon as its last file is read, and the folder is handed over: the import analyses it
while the scan reads the next ones (docs/import.md, *Scan and analysis overlap*).

Part of the import (it writes ``files`` and may start a pool of reader processes); the pure work
— walking, magic bytes, tags, hashing, cover choice — is :mod:`wkmp_ai.scan`'s. Writes go through
the one writer connection, in transactions of :data:`BATCH` files.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from wkmp_ai.db import files as q
from wkmp_ai.db.connection import Database
from wkmp_ai.errors import ErrorCode
from wkmp_ai.ingest.pool import default_workers, process_pool
from wkmp_ai.ingest.rootfiles import save_beside
from wkmp_ai.records.scan import DiscoveredFile, Discovery, ScanWarning, Tags
from wkmp_ai.scan.covers import ArtChoice, CoverPlanner
from wkmp_ai.scan.discover import discover
from wkmp_ai.scan.hashing import sha256_file
from wkmp_ai.scan.notaudio import named_like_audio, not_audio_message
from wkmp_ai.scan.tags import read_tags_and_picture
from wkmp_ai.scan.walk import folder_and_name, relative_to_root

__all__ = ["BATCH", "LibraryFile", "ScanProgress", "ScanReport", "sync_library"]

BATCH = 100
_THREADED_READS = 256  # up to this many files are read by threads of this process: processes would cost more
_CHUNK_FILES = 32
_CHUNK_BYTES = 64 << 20


@dataclass(frozen=True)
class ScanProgress:
    """``phase`` is 'discovering' (``done`` files found so far), 'discovered' (``done`` files found,
    ``total`` to read), 'reading' or 'writing'; ``current`` the file being read."""

    phase: str
    done: int
    total: int
    current: str | None = None


@dataclass(frozen=True)
class LibraryFile:
    """A file present after the scan; ``status`` is 'added', 'updated', 'moved' or 'unchanged'."""

    file_id: str
    rel_path: str
    format: str
    size: int
    status: str


@dataclass(frozen=True)
class ScanReport:
    added: int
    updated: int
    moved: int
    removed: int
    unchanged: int
    files: tuple[LibraryFile, ...]
    needs_analysis: tuple[LibraryFile, ...]  # added and updated files
    duplicates: tuple[tuple[str, ...], ...]  # paths sharing their bytes, among this scan's files
    warnings: tuple[ScanWarning, ...]
    kept_unreadable: int  # rows kept because their file or folder could not be read
    contents_read: int  # files whose bytes were read (hashed and tagged) in this scan
    seconds: float


@dataclass(frozen=True)
class _Read:
    found: DiscoveredFile
    hash: str | None
    tags: Tags
    picture: bytes | None
    error: str | None


def _read_file(found: DiscoveredFile) -> _Read:
    """Hash, tags and embedded picture of one file (runs in a reader thread)."""
    try:
        digest = sha256_file(found.abs_path)
    except OSError as exc:
        return _Read(found, None, Tags(), None, exc.strerror or str(exc))
    tags, picture = read_tags_and_picture(found.abs_path, found.format)
    return _Read(found, digest, tags, picture, None)


def _batches(items: list[str], size: int = BATCH) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _read_files(chunk: list[DiscoveredFile]) -> list[_Read]:
    return [_read_file(found) for found in chunk]


def _chunks(items: list[DiscoveredFile]) -> Iterator[list[DiscoveredFile]]:
    """Groups of up to :data:`_CHUNK_FILES` files and about :data:`_CHUNK_BYTES` bytes: a task per
    file would cost more in inter-process traffic than reading a small file does."""
    chunk: list[DiscoveredFile] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += item.size
        if len(chunk) >= _CHUNK_FILES or size >= _CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _pooled_reads(pool: Executor, chunks: Iterable[list[DiscoveredFile]], window: int) -> Iterator[_Read]:
    """``map(_read_file, ...)`` over the chunks' files in ``pool``, in order, with at most ``window``
    chunks in flight (each read may hold an embedded picture of several MB)."""
    pending: deque[Future[list[_Read]]] = deque()
    for chunk in chunks:
        pending.append(pool.submit(_read_files, chunk))
        if len(pending) >= window:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


class _Sync:
    """One run of :func:`sync_library`; holds its counters so the steps stay short."""

    def __init__(
        self,
        db: Database,
        import_dir: Path,
        root: Path,
        on_progress: Callable[[ScanProgress], None] | None,
        executor: Executor | None,
        on_folder: Callable[[str, frozenset[str]], None] | None = None,
    ):
        self.db = db
        self.on_folder = on_folder
        self.present: dict[str, set[str]] = {}  # folder -> its audio files found by this scan
        self.reading: str | None = None  # the folder whose files are being read, when handing over
        self.to_read = 0
        self.classified = 0  # files read and their rows prepared
        self.executor = executor
        self.root = os.path.realpath(root)
        self.start = os.path.realpath(import_dir)
        rel = relative_to_root(self.start, self.root)
        if rel is None:
            raise ValueError(f"{import_dir} is outside the root folder {self.root}")
        self.prefix = rel + "/" if rel else ""
        self.on_progress = on_progress
        self.warnings: list[ScanWarning] = []
        self.records: list[q.FileRecord] = []
        self.touched: list[tuple[str, int, int, str]] = []
        self.moves: list[tuple[q.KnownFile, q.FileRecord]] = []
        self.files: list[LibraryFile] = []
        self.counts = {"added": 0, "updated": 0, "moved": 0, "unchanged": 0}
        self.kept = 0
        self.written = 0
        self.new_hashes: set[str] = set()
        self._last_progress = 0.0

    def progress(self, phase: str, done: int, total: int, current: str | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.on_progress is not None and (force or now - self._last_progress >= 0.25):
            self._last_progress = now
            self.on_progress(ScanProgress(phase, done, total, current))

    def run(self) -> ScanReport:
        started = time.monotonic()
        with self.db.read() as conn:
            known = q.load_known(conn)
            others = q.load_others(conn)
        hints: dict[str, tuple[int, int, str | None]] = {p: (size, mtime, None) for p, (size, mtime) in others.items()}
        hints.update(
            (p, (k.size, k.mtime_ns, k.format))
            for p, k in known.items()
            if k.size is not None and k.mtime_ns is not None and k.format
        )
        self.progress("discovering", 0, 0, force=True)
        found = discover(
            self.start,
            self.root,
            known=hints,
            executor=self.executor,
            pools=process_pool,
            want_others=True,
            on_file=lambda n: self.progress("discovering", n, 0),  # files found so far
        )
        self.warnings.extend(found.warnings)
        self._remember_others(found, others)
        for other in found.others:  # named as audio by the user, yet not audio: say so, every scan
            if named_like_audio(other.rel_path):
                path = None if other.unchanged else os.path.join(self.root, other.rel_path)  # never reopened
                message = not_audio_message(other.rel_path, other.size, path)
                self.warnings.append(ScanWarning(ErrorCode.NOT_AUDIO, other.rel_path, message))
        for f in found.files:
            self.present.setdefault(folder_and_name(f.rel_path)[0], set()).add(f.rel_path)
        to_read = sorted((f for f in found.files if not f.unchanged), key=lambda f: folder_and_name(f.rel_path))
        self.to_read = len(to_read)
        self.progress("discovered", len(found.files), len(to_read), force=True)
        for f in found.files:
            if f.unchanged:
                self._keep(known[f.rel_path], f, "unchanged")
        present = {f.rel_path for f in found.files}
        missing = {
            p: k
            for p, k in known.items()
            if p.startswith(self.prefix) and p not in present and not found.is_unreadable(p)
        }
        self.kept += sum(1 for p in known if p.startswith(self.prefix) and p not in present and found.is_unreadable(p))
        self._classify(self._read_all(to_read), known, missing)
        self._hand_over()
        self._flush()
        removed = self._remove(missing, empty_walk=not (found.files or found.others or found.unreadable))
        self.progress("writing", self.written + removed, self.written + removed, force=True)
        hashes = self.new_hashes
        with self.db.read() as conn:
            duplicates = q.duplicate_groups(conn, hashes) if hashes else []
        for group in duplicates:
            self.warnings.append(
                ScanWarning(ErrorCode.DUPLICATE_CONTENT, group[0], "same content at: " + ", ".join(group))
            )
        self.files.sort(key=lambda f: f.rel_path)
        return ScanReport(
            added=self.counts["added"],
            updated=self.counts["updated"],
            moved=self.counts["moved"],
            removed=removed,
            unchanged=self.counts["unchanged"],
            files=tuple(self.files),
            needs_analysis=tuple(f for f in self.files if f.status in ("added", "updated")),
            duplicates=tuple(tuple(g) for g in duplicates),
            warnings=tuple(self.warnings),
            kept_unreadable=self.kept,
            contents_read=len(to_read),
            seconds=time.monotonic() - started,
        )

    def _remember_others(self, found: Discovery, others: dict[str, tuple[int, int]]) -> None:
        """Record the files that are not audio (new or changed) and forget those gone or now audio."""
        fresh = [(o.rel_path, o.size, o.mtime_ns) for o in found.others if not o.unchanged]
        seen = {o.rel_path for o in found.others}
        stale = [
            p for p in others if p.startswith(self.prefix) and p not in seen and not found.is_unreadable(p)
        ]  # fmt: skip
        for start in range(0, max(len(fresh), len(stale)), 1000):
            with self.db.write() as conn:
                q.save_others(conn, fresh[start : start + 1000])
                q.forget_others(conn, stale[start : start + 1000])
        cues = [p for p in [*(f[0] for f in fresh), *stale] if p.lower().endswith(".cue")]
        if cues:
            with self.db.write() as conn:
                q.reanalyse_beside_cue_sheets(conn, cues)

    def _keep(self, row: q.KnownFile, found: DiscoveredFile, status: str) -> None:
        self.counts["unchanged"] += 1
        self.files.append(LibraryFile(row.file_id, found.rel_path, found.format, found.size, status))

    def _read_all(self, to_read: list[DiscoveredFile]) -> Iterator[_Read]:
        total = len(to_read)
        pool = self.executor
        own_pool = pool is None and total > 1
        chunks: Iterable[list[DiscoveredFile]]
        if own_pool and (total <= _THREADED_READS or self.on_folder is not None):
            # Threads: the reads are mostly hashing, which releases the GIL; a file at a time. An
            # import's scan always uses threads: it waits for the workers most of the time, and reader
            # processes would stay resident beside them for the whole import (2,000 files: peak RSS 506 MB
            # with them, 415–431 MB without; 71.7 and 69.0 s).
            pool, chunks = ThreadPoolExecutor(default_workers()), ([found] for found in to_read)
        else:
            if own_pool:
                pool = process_pool()
            chunks = _chunks(to_read)
        try:
            yield from map(_read_file, to_read) if pool is None else _pooled_reads(pool, chunks, 8)
        finally:
            if own_pool and pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _classify(self, reads: Iterable[_Read], known: dict[str, q.KnownFile], missing: dict[str, q.KnownFile]) -> None:
        by_hash: dict[str, list[q.KnownFile]] = {}
        for row in missing.values():
            by_hash.setdefault(row.hash, []).append(row)
        with self.db.read() as conn:
            planner = CoverPlanner(
                self.root, lambda folder, h: q.find_art_in_folder(conn, folder, h), self.warnings.append, save_beside
            )
            for read in reads:
                folder = folder_and_name(read.found.rel_path)[0]
                if self.on_folder is not None and folder != self.reading:
                    self._hand_over()
                    self.reading = folder
                self._classify_one(read, known, missing, by_hash, planner)
                self.classified += 1
                self.progress("reading", self.classified, self.to_read, read.found.rel_path)
                if len(self.records) + len(self.moves) + len(self.touched) >= BATCH:
                    self._flush()

    def _classify_one(
        self,
        read: _Read,
        known: dict[str, q.KnownFile],
        missing: dict[str, q.KnownFile],
        by_hash: dict[str, list[q.KnownFile]],
        planner: CoverPlanner,
    ) -> None:
        found = read.found
        for warning in read.tags.warnings:
            self.warnings.append(ScanWarning(warning.code, found.rel_path, warning.message))
        row = known.get(found.rel_path)
        if read.hash is None:
            self.warnings.append(ScanWarning(ErrorCode.FILE_UNREADABLE, found.rel_path, read.error or "unreadable"))
            if row is not None:  # the file is there, only unreadable now: keep its row as it is
                self.kept += 1
            return
        if row is not None and row.hash == read.hash and row.size is not None:
            self.touched.append((row.file_id, found.size, found.mtime_ns, found.format))
            self._keep(row, found, "unchanged")
            return
        moved_from = self._pop_move(by_hash, missing, read.hash, found.rel_path) if row is None else None
        owner = row or moved_from
        file_id = owner.file_id if owner is not None else str(uuid.uuid4())
        record = self._record(file_id, read, planner.choose(found, read.picture))
        self.new_hashes.add(read.hash)
        if moved_from is not None:
            self.moves.append((moved_from, record))
            status = "moved"
        else:
            self.records.append(record)
            # a row that predates the side table and still holds these bytes is not new work
            status = "added" if row is None else ("unchanged" if row.hash == read.hash else "updated")
        self.counts[status] += 1
        self.files.append(LibraryFile(file_id, found.rel_path, found.format, found.size, status))

    @staticmethod
    def _pop_move(
        by_hash: dict[str, list[q.KnownFile]], missing: dict[str, q.KnownFile], digest: str, new_path: str
    ) -> q.KnownFile | None:
        candidates = by_hash.get(digest)
        if not candidates:
            return None
        name = new_path.rsplit("/", 1)[-1]
        same_name = [c for c in candidates if c.rel_path.rsplit("/", 1)[-1] == name]
        chosen = (same_name or candidates)[0]
        candidates.remove(chosen)
        del missing[chosen.rel_path]
        return chosen

    @staticmethod
    def _record(file_id: str, read: _Read, art: ArtChoice | None) -> q.FileRecord:
        found = read.found
        return q.FileRecord(
            file_id=file_id,
            rel_path=found.rel_path,
            hash=read.hash or "",
            duration_s=read.tags.duration_s,
            size=found.size,
            mtime_ns=found.mtime_ns,
            format=found.format,
            tags_json=json.dumps(read.tags.to_json(), ensure_ascii=False, sort_keys=True),
            art_path=art.path if art else None,
            art_width=art.width if art else None,
            art_height=art.height if art else None,
            art_source=art.source if art else None,
            art_hash=art.source_hash if art else None,
        )

    def _remove(self, missing: dict[str, q.KnownFile], *, empty_walk: bool) -> int:
        if not missing:
            return 0
        if empty_walk and not _has_entries(self.start):
            self.kept += len(missing)
            self.warnings.append(
                ScanWarning(
                    ErrorCode.DIRECTORY_UNREADABLE,
                    self.prefix or "./",
                    f"folder is empty; its {len(missing)} known files are kept (is a disk unmounted?)",
                )
            )
            return 0
        ids = [row.file_id for row in missing.values()]
        for batch in _batches(ids):
            with self.db.write() as conn:
                q.delete_files(conn, batch)
        return len(ids)

    def _hand_over(self) -> None:
        """Write the folder being read and hand it to ``on_folder`` (which may block: back-pressure)."""
        if self.on_folder is None or self.reading is None:
            return
        self._flush()
        self.progress("reading", self.classified, self.to_read, force=True)  # before the hand-over: exact counts
        self.on_folder(self.reading, frozenset(self.present.get(self.reading, ())))
        self.reading = None

    def _flush(self) -> None:
        """Write what has been read so far: new/changed files, moves, size/mtime updates."""
        if self.records or self.moves or self.touched:
            with self.db.write() as conn:
                q.upsert_files(conn, self.records)
                q.upsert_files(conn, [record for _, record in self.moves])
                for old, record in self.moves:
                    if old.art_path and record.art_path and old.art_path != record.art_path:
                        q.repoint_images(conn, record.file_id, old.art_path, record.art_path)
                q.touch_files(conn, self.touched)
            self.written += len(self.records) + len(self.moves) + len(self.touched)
            self.progress("writing", self.written, self.written)
        self.records, self.moves, self.touched = [], [], []


def _has_entries(folder: str) -> bool:
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


def sync_library(
    db: Database,
    import_dir: Path,
    root: Path,
    *,
    on_progress: Callable[[ScanProgress], None] | None = None,
    executor: Executor | None = None,
    on_folder: Callable[[str, frozenset[str]], None] | None = None,
) -> ScanReport:
    """Bring ``files`` (and ``wkmp_ai_files``) in line with the audio files under ``import_dir``.

    ``import_dir`` must lie inside ``root`` (ValueError otherwise). Problems with single files or
    folders become warnings in the report; a database failure raises IngestError
    (``DATABASE_ERROR`` / ``DISK_FULL``) with the batches written so far kept. Verification,
    hashing and tag reading run in ``executor`` (a process pool) when given, else in a pool of
    the scan's own when there is enough work to pay for one.

    ``on_folder(folder, paths)`` is called from the scan's thread once the new and changed files of
    ``folder`` (root-relative, "" for the root) are written; ``paths`` are all its audio files found
    by this scan. It may block, to keep the scan from running far ahead, or raise to stop the scan.
    """
    return _Sync(db, import_dir, root, on_progress, executor, on_folder).run()
