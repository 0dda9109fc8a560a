"""sync_library on a real SQLite file: first scan, rescans, moves, removals, duplicates, cover art."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TIT2
from PIL import Image

from wkmp_ai.db import Database
from wkmp_ai.db.files import attach_art, scanned_file
from wkmp_ai.errors import ErrorCode
from wkmp_ai.ingest.library import sync_library
from wkmp_ai.records.scan import Tags


def jpeg(width: int, height: int, color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG")
    return out.getvalue()


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def rows(db: Database, sql: str, *args: object) -> list[sqlite3.Row]:
    with db.read() as conn:
        return list(conn.execute(sql, args))


def files_by_path(db: Database) -> dict[str, sqlite3.Row]:
    return {r["path"]: r for r in rows(db, "SELECT * FROM files")}


def add_passage(db: Database, file_id: str) -> str:
    guid = str(uuid.uuid4())
    with db.write() as conn:
        conn.execute(
            "INSERT INTO passages(guid, file_id, start_time_ticks, end_time_ticks, title)"
            " VALUES (?, ?, 0, 28224000, 't')",
            (guid, file_id),
        )
    return guid


@pytest.fixture
def lib(root: Path, templates: dict[str, bytes]) -> Path:
    folder = root / "lib"
    put(folder / "A" / "X" / "01 one.flac", templates["flac"])
    put(folder / "A" / "X" / "02 two.mp3", templates["mp3"])
    put(folder / "B" / "three.ogg", templates["ogg"])
    put(folder / "B" / "notes.txt", b"not audio")
    return folder


def test_first_scan_writes_files_rows(db: Database, root: Path, lib: Path, templates: dict[str, bytes]) -> None:
    report = sync_library(db, lib, root)
    assert (report.added, report.updated, report.moved, report.removed, report.unchanged) == (3, 0, 0, 0, 0)
    assert [f.rel_path for f in report.needs_analysis] == [
        "lib/A/X/01 one.flac",
        "lib/A/X/02 two.mp3",
        "lib/B/three.ogg",
    ]
    stored = files_by_path(db)
    assert set(stored) == {"lib/A/X/01 one.flac", "lib/A/X/02 two.mp3", "lib/B/three.ogg"}
    flac = stored["lib/A/X/01 one.flac"]
    assert flac["hash"] == hashlib.sha256(templates["flac"]).hexdigest()
    assert flac["duration"] == pytest.approx(0.1, abs=0.01)
    mtime = (lib / "A" / "X" / "01 one.flac").stat().st_mtime
    assert flac["modification_time"] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(mtime)))
    side = scanned_file_row(db, flac["guid"])
    assert side.format == "flac" and side.size == len(templates["flac"])
    assert Tags.from_json(json.loads(side.tags_json)).title == "Template flac"


def scanned_file_row(db: Database, file_id: str):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return scanned_file(conn, file_id)


def test_rescan_skips_unchanged_and_sees_every_kind_of_change(
    db: Database, root: Path, lib: Path, templates: dict[str, bytes]
) -> None:
    first = sync_library(db, lib, root)
    ids = {f.rel_path: f.file_id for f in first.files}
    passage = add_passage(db, ids["lib/B/three.ogg"])

    again = sync_library(db, lib, root)
    assert (again.added, again.updated, again.removed, again.unchanged, again.contents_read) == (0, 0, 0, 3, 0)
    assert again.needs_analysis == ()

    with open(lib / "A" / "X" / "02 two.mp3", "ab") as fh:  # new bytes
        fh.write(b"\x00" * 10)
    st = (lib / "A" / "X" / "01 one.flac").stat()  # same bytes, new mtime
    os.utime(lib / "A" / "X" / "01 one.flac", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    (lib / "B" / "three.ogg").unlink()
    put(lib / "C" / "four.opus", templates["opus"])

    third = sync_library(db, lib, root)
    assert (third.added, third.updated, third.moved, third.removed, third.unchanged) == (1, 1, 0, 1, 1)
    assert third.contents_read == 3
    assert {f.rel_path: f.status for f in third.needs_analysis} == {
        "lib/A/X/02 two.mp3": "updated",
        "lib/C/four.opus": "added",
    }
    stored = files_by_path(db)
    assert "lib/B/three.ogg" not in stored
    assert stored["lib/A/X/02 two.mp3"]["guid"] == ids["lib/A/X/02 two.mp3"]  # updated in place
    assert rows(db, "SELECT * FROM passages WHERE guid = ?", passage) == []  # removed file: passages cascade
    touched = scanned_file_row(db, ids["lib/A/X/01 one.flac"])
    assert touched.mtime_ns == st.st_mtime_ns + 5_000_000_000
    assert sync_library(db, lib, root).contents_read == 0  # and the next rescan reads nothing again


def test_moved_file_keeps_its_guid_and_passages(db: Database, root: Path, lib: Path) -> None:
    first = sync_library(db, lib, root)
    old_id = next(f.file_id for f in first.files if f.rel_path == "lib/B/three.ogg")
    passage = add_passage(db, old_id)
    (lib / "Renamed").mkdir()
    (lib / "B" / "three.ogg").rename(lib / "Renamed" / "3 - three.ogg")
    report = sync_library(db, lib, root)
    assert (report.added, report.moved, report.removed) == (0, 1, 0)
    stored = files_by_path(db)
    assert stored["lib/Renamed/3 - three.ogg"]["guid"] == old_id
    assert "lib/B/three.ogg" not in stored
    assert rows(db, "SELECT file_id FROM passages WHERE guid = ?", passage)[0]["file_id"] == old_id
    assert report.needs_analysis == ()


def test_duplicate_content_is_reported_and_both_kept(db: Database, root: Path, lib: Path) -> None:
    shutil.copyfile(lib / "A" / "X" / "01 one.flac", lib / "B" / "copy of one.flac")
    report = sync_library(db, lib, root)
    assert report.duplicates == (("lib/A/X/01 one.flac", "lib/B/copy of one.flac"),)
    assert ErrorCode.DUPLICATE_CONTENT in [w.code for w in report.warnings]
    assert len(files_by_path(db)) == 4


def test_an_emptied_folder_does_not_empty_the_library(db: Database, root: Path, lib: Path) -> None:
    sync_library(db, lib, root)
    for child in list(lib.iterdir()):
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    report = sync_library(db, lib, root)
    assert report.removed == 0 and report.kept_unreadable == 3
    assert len(files_by_path(db)) == 3
    assert any("folder is empty" in w.message for w in report.warnings)


def test_scanning_a_subfolder_leaves_the_rest_alone(db: Database, root: Path, lib: Path) -> None:
    sync_library(db, lib, root)
    (lib / "B" / "three.ogg").unlink()
    report = sync_library(db, lib / "A", root)
    assert report.removed == 0 and report.unchanged == 2
    assert "lib/B/three.ogg" in files_by_path(db)


def tag_mp3_with_art(path: Path, picture: bytes) -> None:
    tags = ID3()
    tags.add(TIT2(encoding=3, text=path.stem))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="front", data=picture))
    tags.save(path)


def test_identical_embedded_art_gives_one_image_per_folder(
    db: Database, root: Path, templates: dict[str, bytes]
) -> None:
    album = root / "Band" / "Record"
    big = jpeg(3000, 3000)
    for n in range(1, 5):
        tag_mp3_with_art(put(album / f"0{n} song.mp3", templates["mp3"] + bytes([n])), big)
    other = put(album / "05 bonus.flac", templates["flac"])
    flac = FLAC(other)
    pic = Picture()
    pic.type, pic.mime, pic.data = 3, "image/jpeg", jpeg(300, 200, (250, 250, 0))
    flac.add_picture(pic)
    flac.save()
    report = sync_library(db, root, root)
    assert report.added == 5
    art = {r["path"]: (r["art_path"], r["art_width"], r["art_height"], r["art_source"]) for r in rows(
        db, "SELECT f.path, w.* FROM files f JOIN wkmp_ai_files w ON w.file_id = f.guid")}  # fmt: skip
    shared = ("Band/Record/01 song.jpg", 1024, 1024, "embedded")
    assert [art[f"Band/Record/0{n} song.mp3"] for n in range(1, 5)] == [shared] * 4
    assert art["Band/Record/05 bonus.flac"] == ("Band/Record/05 bonus.jpg", 300, 200, "embedded")
    images = sorted(p.name for p in album.iterdir() if p.suffix == ".jpg")
    assert images == ["01 song.jpg", "05 bonus.jpg"]
    with Image.open(album / "01 song.jpg") as written:
        assert written.size == (1024, 1024)
    # a later track with the same picture reuses the image; so does a rescan
    tag_mp3_with_art(put(album / "06 late.mp3", templates["mp3"] + b"late"), big)
    sync_library(db, root, root)
    late = rows(
        db, "SELECT w.art_path FROM files f JOIN wkmp_ai_files w ON w.file_id = f.guid WHERE f.path LIKE '%late%'"
    )
    assert late[0]["art_path"] == "Band/Record/01 song.jpg"
    assert sorted(p.name for p in album.iterdir() if p.suffix == ".jpg") == ["01 song.jpg", "05 bonus.jpg"]


def test_folder_images_and_broken_embedded_art(db: Database, root: Path, templates: dict[str, bytes]) -> None:
    small = put(root / "Small" / "cover.jpg", jpeg(600, 600))
    put(root / "Small" / "a.wav", templates["wav"])
    put(root / "Big" / "folder.jpg", jpeg(2048, 1024))
    put(root / "Big" / "b.ogg", templates["ogg"])
    broken = put(root / "Small" / "c.mp3", templates["mp3"])
    tag_mp3_with_art(broken, jpeg(500, 500)[:300])  # a cut-off JPEG
    report = sync_library(db, root, root)
    art = {r["path"]: (r["art_path"], r["art_width"], r["art_height"], r["art_source"]) for r in rows(
        db, "SELECT f.path, w.* FROM files f JOIN wkmp_ai_files w ON w.file_id = f.guid")}  # fmt: skip
    assert art["Small/a.wav"] == ("Small/cover.jpg", 600, 600, "folder")  # used in place
    assert art["Small/c.mp3"] == ("Small/cover.jpg", 600, 600, "folder")  # fell back from the broken one
    assert art["Big/b.ogg"] == ("Big/b.jpg", 1024, 512, "folder")  # resized copy beside the track
    assert [(w.code, w.path) for w in report.warnings] == [(ErrorCode.COVER_ART_INVALID, "Small/c.mp3")]
    assert small.read_bytes()[:2] == b"\xff\xd8"  # the user's image is untouched


def test_attach_art_is_idempotent(db: Database, root: Path, templates: dict[str, bytes]) -> None:
    put(root / "Album" / "cover.jpg", jpeg(400, 400))
    put(root / "Album" / "t.flac", templates["flac"])
    put(root / "Bare" / "u.flac", templates["flac"] + b"u")
    report = sync_library(db, root, root)
    ids = {f.rel_path: f.file_id for f in report.files}
    file_id = ids["Album/t.flac"]
    p1, p2 = add_passage(db, file_id), add_passage(db, file_id)
    with db.write() as conn:
        first = attach_art(conn, file_id, passage_ids=[p1, p2])
        second = attach_art(conn, file_id, passage_ids=[p1, p2])
    assert first == second and len(first) == 2
    images = rows(db, "SELECT * FROM images ORDER BY entity_id")
    assert sorted(r["entity_id"] for r in images) == sorted([p1, p2])
    assert {(r["file_path"], r["image_type"], r["width"], r["height"]) for r in images} == {
        ("Album/cover.jpg", "album_front", 400, 400)
    }
    album = str(uuid.uuid4())
    with db.write() as conn:
        conn.execute("INSERT INTO albums(guid, album_mbid, title) VALUES (?, ?, 'A')", (album, str(uuid.uuid4())))
        on_album = attach_art(conn, file_id, passage_ids=[p1], album_id=album)
        assert attach_art(conn, file_id, passage_ids=[p1], album_id=album) == on_album
        assert attach_art(conn, ids["Bare/u.flac"], passage_ids=[add_passage_in(conn, ids["Bare/u.flac"])]) == []
    assert len(rows(db, "SELECT * FROM images WHERE entity_id = ?", album)) == 1

    (root / "Album" / "t.flac").unlink()  # the file goes: its passages' images go with it
    sync_library(db, root, root)
    assert rows(db, "SELECT * FROM images WHERE entity_id IN (?, ?)", p1, p2) == []


def add_passage_in(conn: sqlite3.Connection, file_id: str) -> str:
    guid = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO passages(guid, file_id, start_time_ticks, end_time_ticks) VALUES (?, ?, 0, 1000)", (guid, file_id)
    )
    return guid


def test_progress_is_reported(db: Database, root: Path, lib: Path) -> None:
    seen: list[str] = []
    sync_library(db, lib, root, on_progress=lambda p: seen.append(p.phase))
    assert seen[0] == "discovering" and seen[-1] == "writing"


def test_folders_are_written_and_handed_over_one_at_a_time(
    db: Database, root: Path, templates: dict[str, bytes]
) -> None:
    """With ``on_folder``, each folder's rows are written before it is handed over, and the next
    folder's after; a file beside a subfolder of its own name stays with its folder."""
    lib = root / "lib"
    put(lib / "A" / "B.flac", templates["flac"])
    put(lib / "A" / "B" / "x.mp3", templates["mp3"])
    put(lib / "A" / "C.ogg", templates["ogg"])
    put(lib / "D" / "y.opus", templates["opus"])
    put(lib / "D" / "z.m4a", templates["m4a"])
    calls: list[tuple[str, set[str], set[str]]] = []

    def on_folder(folder: str, paths: frozenset[str]) -> None:
        calls.append((folder, set(paths), set(files_by_path(db))))

    sync_library(db, lib, root, on_folder=on_folder)
    a, b, d = {"lib/A/B.flac", "lib/A/C.ogg"}, {"lib/A/B/x.mp3"}, {"lib/D/y.opus", "lib/D/z.m4a"}
    assert calls == [("lib/A", a, a), ("lib/A/B", b, a | b), ("lib/D", d, a | b | d)]

    calls.clear()
    sync_library(db, lib, root, on_folder=on_folder)
    assert calls == []  # nothing new or changed: nothing handed over

    # One file changed and one moved into D: D alone is handed over, with all its files.
    put(lib / "D" / "y.opus", templates["wav"])
    (lib / "A" / "C.ogg").rename(lib / "D" / "C.ogg")
    sync_library(db, lib, root, on_folder=on_folder)
    assert [(folder, paths) for folder, paths, _ in calls] == [("lib/D", d | {"lib/D/C.ogg"})]


class Stopped(Exception):
    pass


def test_a_hand_over_that_raises_stops_the_scan_and_keeps_what_was_written(
    db: Database, root: Path, templates: dict[str, bytes]
) -> None:
    lib = root / "lib"
    put(lib / "A" / "one.flac", templates["flac"])
    put(lib / "B" / "two.mp3", templates["mp3"])

    def on_folder(folder: str, paths: frozenset[str]) -> None:
        raise Stopped  # what a cancel does, in the scan's thread

    with pytest.raises(Stopped):
        sync_library(db, lib, root, on_folder=on_folder)
    assert set(files_by_path(db)) == {"lib/A/one.flac"}
    report = sync_library(db, lib, root)  # the next scan reads only what the stopped one had not written
    assert [f.rel_path for f in report.needs_analysis] == ["lib/B/two.mp3"]


def test_outside_root_is_refused(db: Database, root: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside the root"):
        sync_library(db, tmp_path, root)
