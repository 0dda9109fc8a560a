"""Freed memory kept for reuse (wkmp_ai.heap): the page faults of an analysis, counted by the kernel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.synth import music_like, write_audio

FAULTS = """
import resource, sys
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.heap import reuse_freed_memory
from wkmp_ai.params import defaults

if sys.argv[2] == "reuse":
    assert reuse_freed_memory()
analyze_file(sys.argv[1], defaults(), flavor=True)  # the first file pays for the process's peak once
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    analyze_file(sys.argv[1], defaults(), flavor=True)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 3)
"""


def _faults_per_file(path: Path, mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", FAULTS, str(path), mode], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return float(out.stdout)


def test_a_worker_reuses_its_memory_from_file_to_file(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "heap.flac", music_like(40.0, sr=44100, seed=8), sr=44100, fmt="flac")
    kept = _faults_per_file(path, "reuse")
    default = _faults_per_file(path, "default")
    # Measured: 3 pages a file with the thresholds, 1,200-1,450 with glibc's own (every block's
    # arrays handed back to the kernel and faulted in afresh).
    assert kept < 400
    assert default > 4 * kept
