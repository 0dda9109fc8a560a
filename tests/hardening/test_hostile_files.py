"""Hostile files (issue 16, standing test): a seeded fuzzing run of ``wkmp-ai import`` over mutated
MP3/FLAC/Ogg/MP4/WAV/AIFF files — truncations, byte flips, absurd size fields, nested MP4 atoms,
megabyte tag frames, picture bombs, empty and sparse files, folder-image bombs (tests/hardening/fuzz.py).

No crash (the session completes), no hang past the per-file timeout, bounded memory (the whole process
tree), and every input accounted for: analysed, skipped with a reported error, or not audio.
``benchmarks/bench_fuzz_files.py`` runs the same over 2,000+ inputs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.hardening.fuzz import SEED_FORMATS, make_inputs, make_seeds, run_import

pytestmark = pytest.mark.slow

INPUTS = 160
PEAK_RSS_MB = 1500  # two workers (~170 MB each), the importer and its scan pool; a file read whole would blow it


def test_fuzzed_files_end_as_success_or_reported_skip(tmp_path: Path) -> None:
    root = tmp_path / "music"
    inputs = make_inputs(root, make_seeds(tmp_path / "seeds"), INPUTS, seed=1616)
    run = run_import(root, inputs, tmp_path, timeout=240)
    assert run.exit_code == 0, run.stderr[-3000:]
    assert run.summary["state"] == "COMPLETED"
    assert "INTERNAL_ERROR" not in run.codes and "DATABASE_ERROR" not in run.codes
    assert run.unaccounted() == [], "inputs neither analysed, nor skipped, nor recognised as not audio"
    reported = {e["file_path"] for e in run.summary["errors"] if e["severity"] == "skip_file"}
    skipped = {path for path, outcome in run.outcome.items() if outcome.startswith("failed")}
    assert skipped <= reported, "a file was skipped without a reported error"
    assert run.peak_rss_mb < PEAK_RSS_MB, f"peak RSS {run.peak_rss_mb:.0f} MB"
    outcomes = Counter(o.split(":")[0] for o in run.outcome.values() if o != "not audio")
    assert outcomes["analysed"] >= INPUTS // 10  # the mutations leave many files playable: they are not all refused
    assert {i.fmt for i in inputs} == set(SEED_FORMATS)
    print(
        f"\n{len(inputs)} inputs ({dict(Counter(i.mutation for i in inputs))}): "
        f"{dict(Counter(o.split(':')[0] for o in run.outcome.values()))}; skip codes "
        f"{dict(Counter(o.split(':', 1)[1] for o in run.outcome.values() if o.startswith('failed')))}; "
        f"{run.seconds:.1f} s, peak RSS {run.peak_rss_mb:.0f} MB, timeouts {run.codes['ANALYSIS_TIMEOUT']}"
    )
