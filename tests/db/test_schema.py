"""The shared schema: every table, its CHECKs, cascades, triggers; created idempotently; WAL readers."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from wkmp_ai.db import Database, connect, ensure_schema, open_database
from wkmp_ai.db.schema import SCHEMA_VERSION
from wkmp_ai.db.settings import IMPORT_PARAMETERS_KEY, ensure_import_parameters, load_import_parameters
from wkmp_ai.errors import ErrorCode, IngestError

SHARED_TABLES = {
    "files",
    "passages",
    "songs",
    "artists",
    "works",
    "albums",
    "images",
    "passage_songs",
    "song_artists",
    "passage_albums",
    "song_works",
    "acoustid_cache",
    "musicbrainz_cache",
    "acousticbrainz_cache",
    "settings",
    "schema_version",
    "module_config",
}


def gid() -> str:
    return str(uuid.uuid4())


def add_file(conn: sqlite3.Connection, path: str = "a/b.flac") -> str:
    guid = gid()
    conn.execute(
        "INSERT INTO files(guid, path, hash, duration, modification_time) VALUES (?,?,?,?,?)",
        (guid, path, "0" * 64, 180.0, "2025-01-01 00:00:00"),
    )
    return guid


def add_passage(conn: sqlite3.Connection, file_id: str, **cols: object) -> str:
    guid = gid()
    values = {"guid": guid, "file_id": file_id, "start_time_ticks": 0, "end_time_ticks": 1000, **cols}
    names = ", ".join(values)
    conn.execute(f"INSERT INTO passages({names}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))
    return guid


@pytest.fixture
def conn(db: Database):  # type: ignore[no-untyped-def]
    c = connect(db.path)
    yield c
    c.close()


def test_every_table_exists(conn: sqlite3.Connection) -> None:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert names >= SHARED_TABLES


def test_pragmas(conn: sqlite3.Connection) -> None:
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_version_and_module_row(conn: sqlite3.Connection) -> None:
    assert [tuple(r) for r in conn.execute("SELECT version FROM schema_version")] == [(SCHEMA_VERSION,)]
    row = conn.execute("SELECT host, port, enabled FROM module_config WHERE module_name='audio_ingest'").fetchone()
    assert tuple(row) == ("127.0.0.1", 5723, 1)


def test_creation_is_idempotent_and_keeps_data(db: Database, conn: sqlite3.Connection) -> None:
    file_id = add_file(conn)
    before = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    ensure_schema(conn)
    db2 = open_database(db.path)
    db2.close()
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
    assert [r[0] for r in conn.execute("SELECT guid FROM files")] == [file_id]
    assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1


@pytest.mark.parametrize(
    "cols",
    [
        {"start_time_ticks": -1},
        {"start_time_ticks": 100, "end_time_ticks": 100},
        {"lead_in_start_ticks": 2000},
        {"lead_out_start_ticks": -5},
        {"lead_in_start_ticks": 600, "lead_out_start_ticks": 500},
        {"fade_in_start_ticks": 700, "fade_out_start_ticks": 600},
        {"fade_in_curve": "logarithmic"},
        {"fade_out_curve": "exponential"},
    ],
)
def test_passage_checks_reject_bad_rows(conn: sqlite3.Connection, cols: dict[str, object]) -> None:
    file_id = add_file(conn)
    with pytest.raises(sqlite3.IntegrityError):
        add_passage(conn, file_id, **cols)


def test_passage_checks_accept_edges(conn: sqlite3.Connection) -> None:
    file_id = add_file(conn)
    add_passage(
        conn,
        file_id,
        lead_in_start_ticks=0,
        lead_out_start_ticks=1000,
        fade_in_curve="cosine",
        fade_out_curve="logarithmic",
    )
    add_passage(conn, file_id, lead_in_start_ticks=500, lead_out_start_ticks=500)


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        (
            "INSERT INTO files(guid,path,hash,duration,modification_time) VALUES (?,?,?,?,?)",
            (gid(), "x.mp3", "h", 0.0, "2025-01-01 00:00:00"),
        ),
        ("INSERT INTO files(guid,path,hash,modification_time) VALUES (?,?,NULL,?)", (gid(), "y.mp3", "t")),
        ("INSERT INTO songs(guid,recording_mbid,base_probability) VALUES (?,?,?)", (gid(), "m", 1000.5)),
        ("INSERT INTO songs(guid,recording_mbid,min_cooldown) VALUES (?,?,?)", (gid(), "m", -1)),
        ("INSERT INTO artists(guid,artist_mbid,name,ramping_cooldown) VALUES (?,?,?,?)", (gid(), "a", "A", -1)),
        ("INSERT INTO works(guid,work_mbid,title,base_probability) VALUES (?,?,?,?)", (gid(), "w", "W", -0.1)),
        ("INSERT INTO images(guid,file_path,image_type,entity_id) VALUES (?,?,?,?)", (gid(), "a.jpg", "poster", "e")),
        (
            "INSERT INTO images(guid,file_path,image_type,entity_id,priority) VALUES (?,?,?,?,?)",
            (gid(), "a.jpg", "logo", "wkmp", -1),
        ),
        ("INSERT INTO musicbrainz_cache(mbid,entity_type,metadata) VALUES (?,?,?)", ("m", "label", "{}")),
        ("INSERT INTO module_config(module_name,host,port) VALUES (?,?,?)", ("audio_ingest2", "h", 1)),
        ("INSERT INTO module_config(module_name,host,port) VALUES (?,?,?)", ("lyric_editor", "h", 70000)),
    ],
)
def test_table_checks(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(sql, params)


def test_unique_paths_and_mbids(conn: sqlite3.Connection) -> None:
    add_file(conn, "same.flac")
    with pytest.raises(sqlite3.IntegrityError):
        add_file(conn, "same.flac")
    conn.execute("INSERT INTO artists(guid, artist_mbid, name) VALUES (?, 'm1', 'A')", (gid(),))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO artists(guid, artist_mbid, name) VALUES (?, 'm1', 'B')", (gid(),))


def test_link_table_checks_and_foreign_keys(conn: sqlite3.Connection) -> None:
    file_id = add_file(conn)
    passage = add_passage(conn, file_id)
    song = gid()
    conn.execute("INSERT INTO songs(guid, recording_mbid) VALUES (?, 'rec')", (song,))
    with pytest.raises(sqlite3.IntegrityError):  # end must be after start
        conn.execute("INSERT INTO passage_songs VALUES (?, ?, 10, 10, CURRENT_TIMESTAMP)", (passage, song))
    with pytest.raises(sqlite3.IntegrityError):  # no such song
        conn.execute("INSERT INTO passage_songs VALUES (?, ?, 0, 10, CURRENT_TIMESTAMP)", (passage, gid()))
    artist = gid()
    conn.execute("INSERT INTO artists(guid, artist_mbid, name) VALUES (?, 'a', 'A')", (artist,))
    for weight in (0.0, 1.5):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO song_artists(song_id, artist_id, weight) VALUES (?,?,?)", (song, artist, weight))
    conn.execute("INSERT INTO song_artists(song_id, artist_id, weight) VALUES (?,?,1.0)", (song, artist))
    with pytest.raises(sqlite3.IntegrityError):  # unique link
        conn.execute("INSERT INTO song_artists(song_id, artist_id, weight) VALUES (?,?,0.5)", (song, artist))


def test_deleting_a_file_cascades_to_passages_and_links_but_keeps_entities(conn: sqlite3.Connection) -> None:
    file_id = add_file(conn)
    passage = add_passage(conn, file_id)
    song, album, work, artist = gid(), gid(), gid(), gid()
    conn.execute("INSERT INTO songs(guid, recording_mbid) VALUES (?, 'rec')", (song,))
    conn.execute("INSERT INTO albums(guid, album_mbid, title) VALUES (?, 'rel', 'Album')", (album,))
    conn.execute("INSERT INTO works(guid, work_mbid, title) VALUES (?, 'wrk', 'Work')", (work,))
    conn.execute("INSERT INTO artists(guid, artist_mbid, name) VALUES (?, 'art', 'Artist')", (artist,))
    conn.execute(
        "INSERT INTO passage_songs(passage_id, song_id, start_time_ticks, end_time_ticks) VALUES (?,?,0,10)",
        (passage, song),
    )
    conn.execute("INSERT INTO passage_albums(passage_id, album_id) VALUES (?,?)", (passage, album))
    conn.execute("INSERT INTO song_works(song_id, work_id) VALUES (?,?)", (song, work))
    conn.execute("INSERT INTO song_artists(song_id, artist_id, weight) VALUES (?,?,1.0)", (song, artist))

    conn.execute("DELETE FROM files WHERE guid = ?", (file_id,))
    for table in ("passages", "passage_songs", "passage_albums"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    for table in ("songs", "albums", "works", "artists", "song_works", "song_artists"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 1, table

    conn.execute("DELETE FROM songs WHERE guid = ?", (song,))
    assert conn.execute("SELECT count(*) FROM song_works").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM song_artists").fetchone()[0] == 0


def test_updated_at_trigger(conn: sqlite3.Connection) -> None:
    file_id = add_file(conn)
    conn.execute("UPDATE files SET updated_at = '2000-01-01 00:00:00' WHERE guid = ?", (file_id,))
    assert conn.execute("SELECT updated_at FROM files").fetchone()[0] == "2000-01-01 00:00:00"
    conn.execute("UPDATE files SET duration = 12.5 WHERE guid = ?", (file_id,))
    assert conn.execute("SELECT updated_at FROM files").fetchone()[0] > "2020"
    triggers = {r[0] for r in conn.execute("SELECT tbl_name FROM sqlite_master WHERE type='trigger'")}
    assert {
        "files",
        "passages",
        "songs",
        "artists",
        "works",
        "albums",
        "images",
        "settings",
        "module_config",
    } <= triggers


def test_write_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as conn:
        add_file(conn, "rolled/back.mp3")
        raise RuntimeError("boom")
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0


def test_sqlite_errors_become_database_error(db: Database) -> None:
    with pytest.raises(IngestError) as info, db.write() as conn:
        conn.execute("INSERT INTO nowhere VALUES (1)")
    assert info.value.code is ErrorCode.DATABASE_ERROR


def test_another_process_reads_while_we_hold_a_write_transaction(db: Database) -> None:
    with db.write() as conn:
        add_file(conn, "committed.flac")
    reader = (
        "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], timeout=0.5); t = time.monotonic();"
        "n = c.execute('select count(*) from files').fetchone()[0]; print(n, round(time.monotonic() - t, 3))"
    )
    with db.write() as conn:
        add_file(conn, "uncommitted.flac")
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-c", reader, str(db.path)], capture_output=True, text=True, check=True)
        elapsed = time.monotonic() - started
    count, read_time = out.stdout.split()
    assert count == "1"  # sees the last commit, not our open transaction
    assert float(read_time) < 0.4  # and was not blocked by it
    assert elapsed < 10


def test_parameters_defaults_written_once(db: Database) -> None:
    with db.read() as conn:
        raw = conn.execute("SELECT value FROM settings WHERE key = ?", (IMPORT_PARAMETERS_KEY,)).fetchone()[0]
    stored = json.loads(raw)
    assert stored["rms_window_ms"] == 100 and len(stored) == 14


def test_invalid_stored_json_falls_back_to_defaults_with_a_warning(db: Database, caplog) -> None:  # type: ignore[no-untyped-def]
    with db.write() as conn:
        conn.execute("UPDATE settings SET value = '{not json' WHERE key = ?", (IMPORT_PARAMETERS_KEY,))
        values, warnings = load_import_parameters(conn)
        assert values["rms_window_ms"] == 100
        assert warnings and "not valid JSON" in warnings[0]
        ensure_import_parameters(conn)  # must not overwrite what the user may want to mend
        assert conn.execute("SELECT value FROM settings WHERE key=?", (IMPORT_PARAMETERS_KEY,)).fetchone()[0] == (
            "{not json"
        )
    assert "not valid JSON" in caplog.text


def test_stored_object_missing_keys_is_completed(db: Database) -> None:
    with db.write() as conn:
        conn.execute("UPDATE settings SET value = ? WHERE key = ?", ('{"rms_window_ms": 250}', IMPORT_PARAMETERS_KEY))
        ensure_import_parameters(conn)
        stored = json.loads(
            conn.execute("SELECT value FROM settings WHERE key=?", (IMPORT_PARAMETERS_KEY,)).fetchone()[0]
        )
    assert stored["rms_window_ms"] == 250 and stored["lead_in_threshold_db"] == -12.0


def test_open_database_creates_the_folder(tmp_path: Path) -> None:
    db = open_database(tmp_path / "new" / "root" / "wkmp.db")
    db.close()
    assert (tmp_path / "new" / "root" / "wkmp.db").is_file()
