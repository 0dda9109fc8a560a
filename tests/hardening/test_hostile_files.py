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
from wkmp_ai.ingest.workers import WORKER_ADDRESS_SPACE

pytestmark = pytest.mark.slow

INPUTS = 160
# Two workers, each capped at WORKER_ADDRESS_SPACE, and the importer with its scan pool (~300 MB). An
# MP3 whose frames give way to a 4 GiB hole made FFmpeg hold 8 GB before the cap.
PEAK_RSS_MB = 2 * WORKER_ADDRESS_SPACE / 1e6 + 1000


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


async def test_a_runaway_decode_is_capped_in_its_worker(tmp_path: Path) -> None:
    """An MP3 whose frames give way to a 1.5 GiB hole: FFmpeg held 2 bytes for every byte (3 GB). The
    worker's address-space cap bounds it; the file ends one way or another, the pool lives on."""
    import threading
    import time

    import psutil

    from tests.synth import music_like, write_audio
    from wkmp_ai import params as P
    from wkmp_ai.ingest.tasks import analyse_file
    from wkmp_ai.ingest.workers import WorkerPool

    seed = write_audio(tmp_path / "seed.mp3", music_like(1.5, sr=44100), sr=44100, fmt="mp3")
    hostile = tmp_path / "hole.mp3"
    hostile.write_bytes(seed.read_bytes()[:8192])
    with hostile.open("r+b") as fh:
        fh.truncate(3 << 29)  # 1.5 GiB
    pool = WorkerPool(1)
    await pool.start()
    worker = psutil.Process(pool.pids()[0])
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, worker.memory_info().rss)
            except psutil.Error:
                return
            done.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        try:
            await pool.run(analyse_file, str(hostile), P.defaults(), timeout=60, flavor=False)
        except Exception as exc:  # skipped is a defined outcome too; a hang or a blown machine is not
            assert type(exc).__name__ in {"IngestError", "MemoryError", "TaskCrashed"}, exc
        good = await pool.run(analyse_file, str(seed), P.defaults(), timeout=60, flavor=False)
        assert good.passages
    finally:
        done.set()
        watcher.join()
        await pool.close()
    assert peak < WORKER_ADDRESS_SPACE, f"the worker reached {peak / 1e9:.1f} GB"
    print(f"\nhole.mp3: worker peak RSS {peak / 1e6:.0f} MB in {time.monotonic() - started:.1f} s")
