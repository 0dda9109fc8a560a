"""The passages an import writes (docs/design.md, *Segmentation*; *Passages*): they tile each file, in exact ticks, and
with ``create_album_passage`` a file split into songs also gets one passage over all of it."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

from tests.conftest import LiveServer
from tests.ingest.library import make_album
from tests.ingest.test_import_api import wait_finished
from wkmp_ai.ticks import seconds_to_ticks


def _rows(db_path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db_path)
    try:
        files = conn.execute("SELECT guid, path, duration FROM files").fetchall()
        out = {}
        for guid, path, duration in files:
            rows = conn.execute(
                "SELECT start_time_ticks, end_time_ticks, lead_in_start_ticks, lead_out_start_ticks, title, "
                "import_metadata FROM passages WHERE file_id = ? ORDER BY start_time_ticks, end_time_ticks DESC",
                (guid,),
            ).fetchall()
            out[path] = [(duration, *row) for row in rows]
        return out
    finally:
        conn.close()


def _import(server: LiveServer, folder: str, **parameters: object) -> dict:
    reply = server.post("/import/start", json={"root_folder": folder, "parameters": parameters})
    assert reply.status_code == 202, reply.text
    status = wait_finished(server, reply.json()["session_id"])
    assert status["state"] == "COMPLETED", status
    return status


def test_album_passage_beside_the_songs_when_asked(live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    # Three files: a single song, and one holding three songs 2 s apart; 1 s of silence at each end.
    make_album(root, "Band/Live", 2, seconds=7.0, songs_in_last=3, lead=1.0, tail=1.0)
    status = _import(live_server, "Band", create_album_passage=True)
    assert status["files_processed"] == 2
    rows = _rows(live_server.settings.db_path)
    single, split = rows["Band/Live/01 Track 1.flac"], rows["Band/Live/02 Track 2.flac"]

    # A file of one song: one passage over all of it, no album passage (it would be the same).
    ((duration, start, end, lead_in, lead_out, _title, _meta),) = single
    assert (start, end) == (0, seconds_to_ticks(duration))
    assert lead_in - start == seconds_to_ticks(1.0) and end - lead_out == seconds_to_ticks(1.0)

    # Three songs, then the album passage: the whole file, from the first song's lead-in to the
    # last one's lead-out, titled after the album.
    assert len(split) == 4
    duration = split[0][0]
    album = next(r for r in split if '"album_passage": true' in (r[6] or ""))
    songs = [r for r in split if r is not album]
    assert (album[1], album[2]) == (0, seconds_to_ticks(duration))
    assert album[3] == songs[0][3] and album[4] == songs[-1][4]
    assert album[5] == "Live"
    assert songs[0][1] == 0 and songs[-1][2] == seconds_to_ticks(duration)
    assert all(a[2] == b[1] for a, b in itertools.pairwise(songs))
    assert [r[5] for r in songs] == ["Track 2 (1/3)", "Track 2 (2/3)", "Track 2 (3/3)"]
    # The boundaries sit at the midpoints of the 2 s gaps: 1 + 7 + 1 = 9 s and 9 + 9 = 18 s.
    for got, want in zip([songs[0][2], songs[1][2]], [9.0, 18.0], strict=True):
        assert abs(got - seconds_to_ticks(want)) <= seconds_to_ticks(0.010)


def test_no_album_passage_by_default(live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    make_album(root, "Band/Live", 1, seconds=7.0, songs_in_last=3, lead=1.0, tail=1.0)
    _import(live_server, "Band")
    (rows,) = _rows(live_server.settings.db_path).values()
    assert len(rows) == 3
    assert not any('"album_passage"' in (r[6] or "") for r in rows)
