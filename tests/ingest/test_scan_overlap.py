"""The scan hands each folder to the analysis as soon as it is written (docs/import.md, *Scan and
analysis overlap*), and waits when the workers are far behind."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import LiveServer, offline_env
from tests.ingest.library import make_album
from tests.ingest.test_import_api import rows, wait_finished
from tests.ingest.test_import_cli import run_import

# Real SQLite triggers record the order in which the import writes files rows and passages.
WRITE_ORDER = """
CREATE TABLE test_write_order(seq INTEGER PRIMARY KEY, what TEXT, file_id TEXT);
CREATE TRIGGER test_file_written AFTER INSERT ON files
    BEGIN INSERT INTO test_write_order(what, file_id) VALUES ('file', NEW.guid); END;
CREATE TRIGGER test_passage_written AFTER INSERT ON passages
    BEGIN INSERT INTO test_write_order(what, file_id) VALUES ('passage', NEW.file_id); END;
"""


def test_files_are_analysed_while_the_scan_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "music"
    folders = [f"Lib/Album {i}" for i in range(8)]
    for i, folder in enumerate(folders):
        make_album(root, folder, 1, seconds=2.0, seed=i)
    env = offline_env(tmp_path)
    params = [sys.executable, "-m", "wkmp_ai", "params", "set", "import_parallelism=1", "--root", str(root)]
    subprocess.run(params, env=env, check=True, capture_output=True)
    with sqlite3.connect(root / "wkmp.db") as conn:
        conn.executescript(WRITE_ORDER)

    proc = run_import(root, root / "Lib", tmp_path, "--json")
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["state"] == "COMPLETED" and summary["files_processed"] == 8 and summary["files_total"] == 8

    with sqlite3.connect(root / "wkmp.db") as conn:
        folder_of = {guid: path.rpartition("/")[0] for guid, path in conn.execute("SELECT guid, path FROM files")}
        order = [(what, folder_of[file_id]) for what, file_id in conn.execute(
            "SELECT what, file_id FROM test_write_order ORDER BY seq"
        )]  # fmt: skip
    files_written = [folder for what, folder in order if what == "file"]
    assert files_written == folders  # folder by folder, in order
    first_passage = order.index(("passage", folders[0]))
    last_folder = order.index(("file", folders[-1]))
    # One worker, two files in flight and two folders handed over ahead: the scan cannot write the
    # last folder before the first file is analysed and written. (Scan first, then analysis, would
    # write all eight files rows before any passage.)
    assert first_passage < last_folder, order


def test_a_cancel_while_the_scan_still_reads_stops_both_and_the_next_import_finishes(
    live_server: LiveServer,
) -> None:
    root = live_server.settings.root_folder
    for i in range(10):
        make_album(root, f"Many/Album {i:02d}", 2, seconds=20.0, seed=i)
    live_server.post("/parameters/global", json={"import_parallelism": 1})
    session_id = live_server.post("/import/start", json={}).json()["session_id"]
    deadline = time.monotonic() + 60
    while not (status := live_server.get(f"/import/status/{session_id}").json())["current_files"]:
        assert time.monotonic() < deadline and status["state"] in ("SCANNING", "PROCESSING")
        time.sleep(0.02)
    started = time.monotonic()
    body = live_server.post(f"/import/cancel/{session_id}").json()
    assert time.monotonic() - started < 2.0
    assert body["state"] == "CANCELLED"
    db = root / "wkmp.db"
    done = rows(db, "SELECT file_id FROM wkmp_ai_import_state WHERE status = 'analysed'")
    with_passages = rows(db, "SELECT DISTINCT file_id FROM passages")
    assert sorted(done) == sorted(with_passages) and len(done) < 20  # whole files only
    files_at_cancel = rows(db, "SELECT count(*) FROM files")
    assert files_at_cancel[0][0] < 20  # the scan was still reading, held back by the workers
    time.sleep(1.0)
    assert rows(db, "SELECT count(*) FROM files") == files_at_cancel  # the scan stopped too

    again = wait_finished(live_server, live_server.post("/import/start", json={}).json()["session_id"], timeout=240)
    assert again["state"] == "COMPLETED"
    assert again["files_total"] == 20 - len(done)  # what the cancelled run had not finished
    assert rows(db, "SELECT count(*) FROM wkmp_ai_import_state WHERE status = 'analysed'") == [(20,)]
