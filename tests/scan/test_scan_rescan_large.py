"""A rescan of an unchanged 10,000-file tree opens no file (its speed is measured in benchmarks/bench_scan.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from benchmarks.scan_tree import build_tree

from tests.scan.inotify import OpenWatch
from wkmp_ai.db import Database
from wkmp_ai.errors import ErrorCode
from wkmp_ai.ingest.library import sync_library
from wkmp_ai.scan.notaudio import named_like_audio

pytestmark = pytest.mark.slow


def test_unchanged_rescan_reads_no_file_contents(db: Database, root: Path, templates: dict[str, bytes]) -> None:
    tree = build_tree(root / "lib", 10_000, templates, seed=11)
    folders = sorted({p.parent for p in (root / "lib").rglob("*") if p.is_file()})

    first = sync_library(db, root / "lib", root)
    # The decoys named like audio (notes.mp3, empty.flac, headers cut short) are reported, nothing else.
    lib = root / "lib"
    decoys = {
        f"lib/{p.relative_to(lib).as_posix()}"
        for p in lib.rglob("*")
        if p.is_file() and named_like_audio(p.name) and p.relative_to(lib).as_posix() not in tree.audio
    }
    assert decoys and first.added == len(tree.audio)
    assert sorted((w.code, w.path) for w in first.warnings) == sorted((ErrorCode.NOT_AUDIO, d) for d in decoys)

    watch = OpenWatch(folders)
    try:
        again = sync_library(db, root / "lib", root)
        opened = watch.file_events()
        assert not watch.overflowed
        assert opened == []  # not one audio file, not one decoy was opened
        assert sorted((w.code, w.path) for w in again.warnings) == sorted((ErrorCode.NOT_AUDIO, d) for d in decoys)
        assert (again.unchanged, again.added, again.updated, again.removed, again.contents_read) == (
            len(tree.audio), 0, 0, 0, 0,
        )  # fmt: skip

        # The witness can fail: touch one audio file and one decoy, and exactly those are read again.
        audio = root / "lib" / sorted(tree.audio)[0]
        decoy = next(p for p in sorted(folders[0].iterdir()) if f"lib/{p.relative_to(root / 'lib')}" not in {
            f"lib/{k}" for k in tree.audio})  # fmt: skip
        for path in (audio, decoy):
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        watch.file_events()
        third = sync_library(db, root / "lib", root)
        assert {path for path, _ in watch.file_events()} == {audio, decoy}
        assert third.unchanged == len(tree.audio) and third.contents_read == 1
    finally:
        watch.close()
