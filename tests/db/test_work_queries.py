"""What still needs work, folder by folder: the query the scan's hand-over asks once a folder."""

from __future__ import annotations

import uuid

from wkmp_ai.db import Database
from wkmp_ai.db.imports import files_needing_work_in

PATHS = ["A.flac", "A/1.flac", "A/2.flac", "A/B.flac", "A/B/3.flac", "A B/4.flac", "A0/5.flac", "top.flac"]


def fill(db: Database) -> dict[str, str]:
    ids = {path: str(uuid.uuid4()) for path in PATHS}
    with db.write() as conn:
        conn.executemany(
            "INSERT INTO files(guid, path, hash, duration, modification_time) VALUES (?, ?, ?, 1.0, CURRENT_TIMESTAMP)",
            [(guid, path, "h-" + path) for path, guid in ids.items()],
        )
        # A/2.flac is analysed for its current content; A/1.flac for an older one.
        for path, digest in (("A/2.flac", "h-A/2.flac"), ("A/1.flac", "old")):
            conn.execute(
                "INSERT INTO wkmp_ai_import_state(file_id, hash, status) VALUES (?, ?, 'analysed')",
                (ids[path], digest),
            )
    return ids


def test_only_the_folders_own_files_that_need_work(db: Database) -> None:
    fill(db)
    with db.read() as conn:
        assert [w.rel_path for w in files_needing_work_in(conn, "A")] == ["A/1.flac", "A/B.flac"]
        assert [w.rel_path for w in files_needing_work_in(conn, "A/B")] == ["A/B/3.flac"]
        assert [w.rel_path for w in files_needing_work_in(conn, "A B")] == ["A B/4.flac"]
        assert [w.rel_path for w in files_needing_work_in(conn, "")] == ["A.flac", "top.flac"]
        assert files_needing_work_in(conn, "Nowhere") == []


def test_a_folder_reads_a_range_of_the_path_index(db: Database) -> None:
    fill(db)
    with db.read() as conn:
        asked: list[str] = []
        conn.set_trace_callback(asked.append)  # the statement as run, its parameters filled in
        try:
            files_needing_work_in(conn, "A")
        finally:
            conn.set_trace_callback(None)
        select = next(sql for sql in asked if sql.lstrip().startswith("SELECT"))
        plan = " ".join(str(tuple(row)[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + select))
    assert "'A/'" in select and "INDEX" in plan and "SCAN f" not in plan, (select, plan)
