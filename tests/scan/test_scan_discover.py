"""Discovery over real trees: skip rules, symlinks, loops, the root boundary, odd names, parallelism."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from benchmarks.scan_tree import build_tree

from wkmp_ai.db import open_database
from wkmp_ai.errors import ErrorCode
from wkmp_ai.ingest.pool import process_pool
from wkmp_ai.scan.discover import discover


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def rels(found) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.rel_path for f in found.files]


def codes(found) -> list[ErrorCode]:  # type: ignore[no-untyped-def]
    return [w.code for w in found.warnings]


def test_finds_audio_and_skips_what_it_should(root: Path, templates: dict[str, bytes]) -> None:
    lib = root / "lib"
    put(lib / "Artist" / "Album" / "01 One.flac", templates["flac"])
    put(lib / "Artist" / "Album" / "02 Two.mp3", templates["mp3"])
    put(lib / "Artist" / "Album" / "cover.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    put(lib / "Artist" / "Album" / ".hidden.mp3", templates["mp3"])
    put(lib / ".git" / "objects" / "x.ogg", templates["ogg"])
    put(lib / "node_modules" / "pkg" / "x.ogg", templates["ogg"])
    put(lib / "@eaDir" / "01 One.flac" / "SYNOFILE_THUMB.m4a", templates["m4a"])
    put(lib / "$RECYCLE.BIN" / "S-1-5" / "deleted.wav", templates["wav"])
    put(lib / ".DS_Store", b"\x00\x00\x00\x01Bud1" + b"\x00" * 64)
    found = discover(lib, root)
    assert rels(found) == ["lib/Artist/Album/01 One.flac", "lib/Artist/Album/02 Two.mp3"]
    first = found.files[0]
    assert first.format == "flac"
    assert first.path == (lib / "Artist" / "Album" / "01 One.flac").resolve()
    assert first.size == len(templates["flac"])
    assert first.mtime_ns == (lib / "Artist" / "Album" / "01 One.flac").stat().st_mtime_ns
    assert found.warnings == []


def test_import_dir_outside_root_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(ValueError, match="outside the root"):
        discover(outside, root)


def test_symlink_loop_finishes_quickly_with_a_warning(root: Path, templates: dict[str, bytes]) -> None:
    put(root / "a" / "b" / "song.opus", templates["opus"])
    os.symlink("../..", root / "a" / "b" / "up")  # b/up -> root: a loop through the ancestors
    os.symlink("self", root / "a" / "self")  # a link to itself: ELOOP
    started = time.monotonic()
    found = discover(root, root)
    assert time.monotonic() - started < 2.0
    assert rels(found) == ["a/b/song.opus"]
    assert codes(found).count(ErrorCode.SYMLINK_LOOP) == 2
    assert {w.path for w in found.warnings} == {"a/b/up", "a/self"}


def test_links_inside_the_root_are_followed_once(root: Path, templates: dict[str, bytes]) -> None:
    put(root / "real" / "album" / "t.flac", templates["flac"])
    put(root / "loose" / "single.m4a", templates["m4a"])
    (root / "lib").mkdir()
    os.symlink(root / "real" / "album", root / "lib" / "album-link")
    os.symlink(root / "loose" / "single.m4a", root / "lib" / "single-link.m4a")
    found = discover(root / "lib", root)
    # canonical paths: the files are recorded where they really are, once
    assert rels(found) == ["loose/single.m4a", "real/album/t.flac"]
    both = discover(root, root)
    assert rels(both) == ["loose/single.m4a", "real/album/t.flac"]
    assert both.warnings == []


def test_links_out_of_the_root_are_skipped(root: Path, tmp_path: Path, templates: dict[str, bytes]) -> None:
    outside = put(tmp_path / "outside" / "secret.mp3", templates["mp3"])
    os.symlink(outside, root / "file-link.mp3")
    os.symlink(outside.parent, root / "dir-link")
    os.symlink(tmp_path / "nowhere", root / "broken.mp3")
    put(root / "inside.wav", templates["wav"])
    found = discover(root, root)
    assert rels(found) == ["inside.wav"]
    by_path = {w.path: w.code for w in found.warnings}
    assert by_path["file-link.mp3"] == ErrorCode.PATH_OUTSIDE_ROOT
    assert by_path["dir-link"] == ErrorCode.PATH_OUTSIDE_ROOT
    assert by_path["broken.mp3"] == ErrorCode.PATH_OUTSIDE_ROOT  # its target would lie outside too


def test_broken_link_inside_the_root(root: Path) -> None:
    os.symlink(root / "gone.flac", root / "dangling.flac")
    found = discover(root, root)
    assert found.files == []
    assert [(w.code, w.path) for w in found.warnings] == [(ErrorCode.FILE_UNREADABLE, "dangling.flac")]


def test_non_utf8_names_are_reported_not_fatal(root: Path, templates: dict[str, bytes]) -> None:
    raw_root = os.fsencode(root)
    with open(raw_root + b"/Caf\xe9.mp3", "wb") as fh:  # Latin-1 é: not valid UTF-8
        fh.write(templates["mp3"])
    os.mkdir(raw_root + b"/Disque \xe9t\xe9")
    with open(raw_root + b"/Disque \xe9t\xe9/inside.flac", "wb") as fh:
        fh.write(templates["flac"])
    put(root / "Café ok.mp3", templates["mp3"])  # valid UTF-8 é
    found = discover(root, root)
    assert rels(found) == ["Café ok.mp3"]
    assert codes(found) == [ErrorCode.FILE_NAME_NOT_UTF8, ErrorCode.FILE_NAME_NOT_UTF8]
    assert all("\ufffd" in w.path for w in found.warnings)  # shown with a replacement character


def test_special_files_are_not_read(root: Path, templates: dict[str, bytes]) -> None:
    os.mkfifo(root / "pipe.mp3")
    put(root / "real.mp3", templates["mp3"])
    found = discover(root, root)
    assert rels(found) == ["real.mp3"]


def test_known_files_are_only_stated(root: Path, templates: dict[str, bytes]) -> None:
    song = put(root / "x" / "song.ogg", templates["ogg"])
    st = song.stat()
    known = {"x/song.ogg": (st.st_size, st.st_mtime_ns, "ogg")}
    assert discover(root, root, known=known).files[0].unchanged
    os.utime(song, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = discover(root, root, known=known).files[0]
    assert not again.unchanged and again.format == "ogg"


def test_pool_and_inline_agree_on_a_large_tree(tmp_path: Path, templates: dict[str, bytes]) -> None:
    tree = build_tree(tmp_path / "lib", 4500, templates, seed=3)  # more than two tasks: the pool runs
    inline = discover(tree.root, tmp_path, workers=1)
    pooled = discover(tree.root, tmp_path, workers=2, pools=process_pool)
    expected = {f"lib/{path}": fmt for path, fmt in tree.audio.items()}
    assert {f.rel_path: f.format for f in inline.files} == expected
    assert pooled.files == inline.files
    assert inline.warnings == pooled.warnings == []


def _locks_held_on(path: Path) -> list[str]:
    """This process's POSIX locks on ``path``, from /proc/locks."""
    inode = f":{path.stat().st_ino} "
    with open("/proc/locks") as fh:
        return [line for line in fh if f" {os.getpid()} " in line and inode in line]


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs Linux /proc/locks")
def test_the_database_is_never_opened_by_the_scan(root: Path, templates: dict[str, bytes]) -> None:
    """Closing any descriptor of a file drops all this process's POSIX locks on it. Sniffing
    wkmp.db-shm once let the next process to open the database reset the shared memory under the
    writer, which then died of SIGBUS; the walk must not hand the database files to the sniffer."""
    db = open_database(root / "wkmp.db")
    try:
        with db.write() as conn:
            conn.execute("SELECT count(*) FROM files").fetchone()  # maps the WAL index, takes its lock
        shm = root / "wkmp.db-shm"
        held = _locks_held_on(shm)
        assert held, "the writer holds a lock on wkmp.db-shm"
        put(root / "Album" / "01.flac", templates["flac"])
        os.symlink(shm, root / "Album" / "linked.mp3")
        (root / "wkmp.db-journal").write_bytes(b"")
        found = discover(root, root, want_others=True)
        assert rels(found) == ["Album/01.flac"]
        assert not {o.rel_path for o in found.others} & {"wkmp.db", "wkmp.db-wal", "wkmp.db-shm", "wkmp.db-journal"}
        assert _locks_held_on(shm) == held
        # Another module opening the database now must leave the writer's shared memory alone.
        reader = (
            "import sqlite3, sys; "
            "print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM files').fetchone()[0])"
        )
        out = subprocess.run([sys.executable, "-c", reader, str(root / "wkmp.db")], capture_output=True, text=True)
        assert out.stdout.strip() == "0", out.stderr
        with db.write() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES ('scan-test', '1')")
    finally:
        db.close()
