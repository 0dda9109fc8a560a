"""Folder cover art from hostile file systems (issue 16, findings 1-3).

A ``cover.jpg`` may be a symbolic link out of the root, a device, a FIFO, a socket or a huge
sparse file. None of them may be opened (links out, non-regular files) or read whole (size cap);
the scan goes on, reports the image and uses none of it.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import offline_env
from wkmp_ai.db import Database
from wkmp_ai.errors import ErrorCode, IngestError
from wkmp_ai.ingest.library import sync_library
from wkmp_ai.scan import art


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def art_rows(db: Database) -> dict[str, tuple[str | None, str | None]]:
    with db.read() as conn:
        rows = conn.execute(
            "SELECT f.path, w.art_path, w.art_source FROM files f JOIN wkmp_ai_files w ON w.file_id = f.guid"
        )
        return {r[0]: (r[1], r[2]) for r in rows}


# Runs a command with its address space capped (a regression must fail here, not exhaust the
# machine) and prints its exit code and peak RSS (KiB) before its own output.
_LIMITED = """
import resource, subprocess, sys
def cap():
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
p = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=120, preexec_fn=cap)
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
"""


def scan_process(root: Path, tmp_path: Path, *, address_space: int = 3 << 30) -> tuple[int, str, str, int]:
    """``wkmp-ai scan ROOT`` as a real process: (exit code, stdout, stderr, peak RSS in KiB)."""
    command = [sys.executable, "-m", "wkmp_ai", "scan", str(root), "--root", str(root)]
    proc = subprocess.run(
        [sys.executable, "-c", _LIMITED, str(address_space), *command],
        capture_output=True,
        text=True,
        timeout=150,
        env=offline_env(tmp_path),
    )
    head, _, out = proc.stdout.partition("\n")
    code, peak = head.split()
    return int(code), out, proc.stderr, int(peak)


def scan_in_thread(db: Database, root: Path, limit: float = 20.0):  # type: ignore[no-untyped-def]
    """Run sync_library in a daemon thread; fail (instead of hanging the suite) if it blocks."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(sync_library(db, root, root)), daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"the scan was still blocked after {limit:.0f} s"
    assert result, "the scan raised"
    return result[0]


def test_cover_symlink_out_of_the_root_is_not_followed(
    db: Database, root: Path, tmp_path: Path, templates: dict[str, bytes]
) -> None:
    secret = tmp_path / "outside" / "private.jpg"
    secret.parent.mkdir()
    secret.write_bytes(jpeg(2000, 2000))  # large: a copy of it would be written into the root
    album = root / "Album"
    album.mkdir()
    (album / "01 a.wav").write_bytes(templates["wav"])
    (album / "cover.jpg").symlink_to(secret)
    before = sorted(p.name for p in album.iterdir())
    report = sync_library(db, root, root)
    assert art_rows(db) == {"Album/01 a.wav": (None, None)}
    assert sorted(p.name for p in album.iterdir()) == before  # no copy of the outside image
    assert [(w.code, w.path) for w in report.warnings] == [(ErrorCode.PATH_OUTSIDE_ROOT, "Album/cover.jpg")]
    assert "outside the root" in report.warnings[0].message


def test_cover_symlink_inside_the_root_is_used_by_its_canonical_path(
    db: Database, root: Path, templates: dict[str, bytes]
) -> None:
    (root / "Art").mkdir()
    (root / "Art" / "front.jpg").write_bytes(jpeg(300, 300))
    (root / "Album").mkdir()
    (root / "Album" / "01 a.wav").write_bytes(templates["wav"])
    (root / "Album" / "cover.jpg").symlink_to(root / "Art" / "front.jpg")
    report = sync_library(db, root, root)
    assert art_rows(db) == {"Album/01 a.wav": ("Art/front.jpg", "folder")}
    assert report.warnings == ()


def test_cover_pointing_at_a_device_is_never_read(root: Path, tmp_path: Path, templates: dict[str, bytes]) -> None:
    (root / "Album").mkdir()
    (root / "Album" / "01 a.wav").write_bytes(templates["wav"])
    try:
        os.mknod(root / "Album" / "cover.jpg", stat.S_IFCHR | 0o644, os.makedev(1, 5))  # /dev/zero's device
    except PermissionError:
        pytest.skip("creating a device node needs root")
    code, _out, err, peak_kib = scan_process(root, tmp_path)
    assert code == 0, err
    assert "warning: COVER_ART_INVALID: Album/cover.jpg: folder cover art: not a regular file" in err
    assert peak_kib < 400 * 1024, f"scan peaked at {peak_kib // 1024} MiB"


def test_cover_fifo_does_not_block_the_scan(db: Database, root: Path, templates: dict[str, bytes]) -> None:
    (root / "Album").mkdir()
    (root / "Album" / "01 a.wav").write_bytes(templates["wav"])
    os.mkfifo(root / "Album" / "cover.jpg")
    started = time.monotonic()
    report = scan_in_thread(db, root)
    assert time.monotonic() - started < 10
    assert art_rows(db) == {"Album/01 a.wav": (None, None)}
    assert [(w.code, w.path, w.message) for w in report.warnings] == [
        (ErrorCode.COVER_ART_INVALID, "Album/cover.jpg", "folder cover art: not a regular file (a FIFO)")
    ]


def test_cover_socket_and_folder_are_refused(db: Database, root: Path, templates: dict[str, bytes]) -> None:
    for name in ("A", "B"):
        (root / name).mkdir()
        (root / name / "01 a.wav").write_bytes(templates["wav"] + name.encode())
    (root / "A" / "folder.png").mkdir()  # a directory named like an image
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "B" / "front.jpg"))
        report = scan_in_thread(db, root)
    assert art_rows(db) == {"A/01 a.wav": (None, None), "B/01 a.wav": (None, None)}
    assert sorted((w.code, w.path, w.message) for w in report.warnings) == [
        (ErrorCode.COVER_ART_INVALID, "A/folder.png", "folder cover art: not a regular file (a folder)"),
        (ErrorCode.COVER_ART_INVALID, "B/front.jpg", "folder cover art: not a regular file (a socket)"),
    ]


def test_read_image_file_caps_what_it_reads(root: Path) -> None:
    big = root / "cover.jpg"
    with big.open("wb") as fh:
        fh.truncate(art.MAX_IMAGE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(IngestError) as info:
        art.read_image_file(str(big), str(root))
    assert info.value.code == ErrorCode.COVER_ART_INVALID
    assert "50 MB" in info.value.detail
    small = root / "small.jpg"
    small.write_bytes(jpeg(10, 10))
    assert art.read_image_file(str(small), str(root)) == (str(small), small.read_bytes())


def test_embedded_picture_over_the_cap_is_refused_before_decoding() -> None:
    with pytest.raises(IngestError) as info:
        art.prepare_image(b"\xff\xd8\xff" + bytes(art.MAX_IMAGE_BYTES))
    assert info.value.code == ErrorCode.COVER_ART_INVALID
    assert "50 MB" in info.value.detail


def test_huge_sparse_cover_costs_no_memory(root: Path, tmp_path: Path, templates: dict[str, bytes]) -> None:
    """A 2 GiB sparse cover.jpg: the scan must neither read it nor grow with it."""
    (root / "Album").mkdir()
    (root / "Album" / "01 a.wav").write_bytes(templates["wav"])
    with (root / "Album" / "cover.jpg").open("wb") as fh:
        fh.truncate(2 << 30)
    code, _out, err, peak_kib = scan_process(root, tmp_path)
    assert code == 0, err
    assert "COVER_ART_INVALID: Album/cover.jpg: folder cover art: image file of 2147 MB is over the 50 MB limit" in err
    assert peak_kib < 400 * 1024, f"scan peaked at {peak_kib // 1024} MiB"


def test_hashing_a_file_swapped_for_a_fifo_fails_at_once(tmp_path: Path) -> None:
    """Discovery saw a regular file; by the time it is hashed it is a FIFO: an error, not a hang."""
    from wkmp_ai.scan.hashing import sha256_file

    fifo = tmp_path / "01 a.flac"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            sha256_file(fifo)
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "hashing blocked on a FIFO"
    assert outcome and "not a regular file" in str(outcome[0])
