"""The phases of an import and the overall percentage (``wkmp_ai.ingest.phases``), and the scan's
live count of files found that feeds the first phase."""

from __future__ import annotations

from pathlib import Path

from tests.synth import tone, write_audio
from wkmp_ai.db import Database
from wkmp_ai.ingest.library import ScanProgress, sync_library
from wkmp_ai.ingest.phases import Phase, PhaseTracker
from wkmp_ai.scan.discover import discover


def view(t: PhaseTracker, done: int = 0, total: int = 0, *, finished: bool = False) -> dict:
    return t.view(done=done, total=total, files_per_second=0.0, eta=None, finished=finished)


def test_the_overall_percentage_moves_through_every_phase_and_reaches_100_only_at_the_end() -> None:
    t = PhaseTracker(waiting_requests=lambda: {"musicbrainz": 2, "acoustid": 0})
    seen = [view(t)["overall_percentage"]]
    t.scan_progress("discovering", 500, 0)
    assert view(t)["phases"]["scanning"]["files_found"] == 500
    t.scan_progress("discovered", 1000, 400)
    for read in (100, 200, 400):
        t.scan_progress("reading", read, 400)
        seen.append(view(t)["overall_percentage"])
    t.scan_done(1000)
    seen.append(view(t)["overall_percentage"])
    t.phase, t.folders_waiting = Phase.ANALYSIS, 3
    for done in (0, 200, 400):
        seen.append(view(t, done, 400)["overall_percentage"])
        if done == 200:  # a folder finished: its two albums go to identification
            t.folders_waiting, t.albums_total = 2, 2
    t.phase, t.folders_waiting, t.albums_total = Phase.IDENTIFICATION, 0, 5
    for albums in (1, 4, 5):
        t.albums_done = albums
        seen.append(view(t, 400, 400)["overall_percentage"])
    assert seen == sorted(seen), seen
    assert 0 < seen[1] < 10 and seen[-1] == 99.0  # moving during the scan; all work done but not finished
    final = view(t, 400, 400, finished=True)
    assert final["overall_percentage"] == 100.0 and final["phase"] == "finished"
    ident = final["phases"]["identification"]
    assert ident["requests_waiting"] == 2 and ident["waiting_by_service"]["musicbrainz"] == 2
    assert ident["albums_done"] == ident["albums_total"] == 5


def test_folders_still_being_analysed_count_as_albums_to_come() -> None:
    t = PhaseTracker(phase=Phase.ANALYSIS, scan_step="done", folders_waiting=4, albums_total=2, albums_done=2)
    assert view(t, 10, 10)["phases"]["identification"]["albums_total"] == 6
    assert view(t, 10, 10)["overall_percentage"] == 90.0  # 10 + 75 + 15 × 2/6: far from done


def test_the_scan_reports_files_found_while_it_looks(db: Database, root: Path) -> None:
    (root / "Album").mkdir()
    for n in range(5):
        write_audio(root / "Album" / f"{n}.wav", tone(0.2), sr=8000, fmt="wav")
    seen: list[ScanProgress] = []
    sync_library(db, root / "Album", root, on_progress=seen.append)
    found = [p for p in seen if p.phase == "discovered"]
    assert [(p.done, p.total) for p in found] == [(5, 5)]
    counts = [p.done for p in seen if p.phase == "discovering"]  # throttled to one every 0.25 s
    assert counts[0] == 0 and counts == sorted(counts) and counts[-1] <= 5
    calls: list[int] = []
    discover(root / "Album", root, on_file=calls.append)
    assert calls == [1, 2, 3, 4, 5]  # every file found is counted as it is found


def test_the_analysis_may_start_while_the_scan_still_reads() -> None:
    from wkmp_ai.cli.imports import _describe

    t = PhaseTracker()
    t.scan_progress("discovered", 100, 100)
    t.scan_progress("reading", 10, 100)
    scanning = view(t)["overall_percentage"]
    assert scanning == 0.9  # 10 % of the bar for the scan, of which 90 % for reading
    t.phase = Phase.ANALYSIS  # the first folder was handed over
    assert view(t, 0, 100)["overall_percentage"] == scanning  # the bar does not jump
    during = view(t, 4, 100)
    assert during["overall_percentage"] == 3.9  # 0.9 + 75 × 4/100
    assert during["phases"]["scanning"]["step"] == "reading"
    label, counts = _describe({**during, "current_files": ["A/01.flac"]})
    assert label == "Analysing" and counts.startswith("4/100 files · still reading 10/100 ·")
    t.scan_done(100)
    after = view(t, 4, 100)
    assert after["overall_percentage"] == 13.0
    assert "still reading" not in _describe({**after, "current_files": []})[1]
