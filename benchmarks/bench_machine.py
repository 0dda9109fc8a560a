"""What a busy neighbour costs on this machine, whatever the import does.

    .venv/bin/python -m benchmarks.bench_machine [--files 20] [--repeat 5]

bench_import's overlap divides the import's wall time by W_seq ÷ workers, where W_seq is one
process running with the other cores idle. A process may run slower when another core is busy:
the host's clock may drop when more of its cores work, another guest may share the physical core,
and caches and memory bandwidth are shared. That part of the overlap belongs to the machine, and
this measures how large it is here (docs/audio.md, *Sixth pass*: ~2 % for another analysis, ~15 %
for a neighbour streaming through memory).

It times an import worker's per-file work (:mod:`benchmarks.import_work`) over ``--files`` files of
bench_import's library, in one process, alone and then beside one neighbour per other worker that
keeps a core busy with:

- **alu**: a Python loop (registers and the first-level cache only);
- **cache**: NumPy over 400 KB, again and again (fits in a core's own second-level cache);
- **memory**: NumPy over 64 MB (streams from memory);
- **analysis**: the same per-file work on the same files in the reverse order (what an import's
  other worker does).

The runs alternate ``--repeat`` times, and it prints medians of the measured process's wall and CPU
time as ratios to alone. The *analysis* ratio is the floor of bench_import's "machine part" (W_par ÷
(W_seq ÷ workers)), and so of its overlap, on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_import import OUT, WORK, make_library
from wkmp_ai.ingest.pipeline import worker_count
from wkmp_ai.params import defaults

ROOT = Path(__file__).resolve().parents[1]

# Each neighbour runs until it is killed.
NEIGHBOURS = {
    "alu": "x = 0\nwhile True:\n    for i in range(1_000_000): x += i & 7",
    "cache": "import numpy as np\na = np.ones(100_000, np.float32)\nwhile True: a *= 1.0000001",
    "memory": "import numpy as np\na = np.ones(16_000_000, np.float32)\nwhile True: a *= 1.0000001",
}


def _neighbour(kind: str, files: list[str]) -> subprocess.Popen[bytes]:
    if kind == "analysis":  # forever: the per-file work, again and again
        work = [*WORK, *reversed(files)]
        loop = f"import subprocess\nwhile True: subprocess.run({work!r}, stdout=subprocess.DEVNULL)"
        return subprocess.Popen([sys.executable, "-c", loop], cwd=ROOT)
    return subprocess.Popen([sys.executable, "-c", NEIGHBOURS[kind]], cwd=ROOT)


def _timed(files: list[str]) -> tuple[float, float]:
    """(wall, CPU) of one per-file-work process over ``files``."""
    started = time.monotonic()
    proc = subprocess.Popen([*WORK, *files], cwd=ROOT, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit("the per-file work failed")
    return wall, usage.ru_utime + usage.ru_stime


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    subprocess.run(["pkill", "-KILL", "-P", str(proc.pid)], check=False)
    proc.kill()
    proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    library = make_library(OUT / "library-20x10x180", 20, 10, 180.0)
    files = [str(f) for f in library[: args.files]]
    others = max(1, worker_count(defaults()) - 1)
    kinds = ["alone", *NEIGHBOURS, "analysis"]
    print(f"{len(files)} files of bench_import's library; {others} neighbour(s); {args.repeat} alternating runs")
    walls: dict[str, list[float]] = {k: [] for k in kinds}
    cpus: dict[str, list[float]] = {k: [] for k in kinds}
    for run in range(args.repeat):
        for kind in kinds:
            neighbours = [] if kind == "alone" else [_neighbour(kind, files) for _ in range(others)]
            try:
                time.sleep(0.5 if neighbours else 0.0)  # the neighbours up and busy
                wall, cpu = _timed(files)
            finally:
                for n in neighbours:
                    _kill_tree(n)
            walls[kind].append(wall)
            cpus[kind].append(cpu)
            print(f"run {run + 1}: {kind:8s} {wall:6.2f} s wall, {cpu:6.2f} s CPU", flush=True)
    base_wall, base_cpu = statistics.median(walls["alone"]), statistics.median(cpus["alone"])
    print(f"medians over {args.repeat} runs, as ratios to alone ({base_wall:.2f} s wall, {base_cpu:.2f} s CPU):")
    for kind in kinds[1:]:
        wall, cpu = statistics.median(walls[kind]), statistics.median(cpus[kind])
        print(f"  beside {kind:8s} ×{wall / base_wall:.3f} wall, ×{cpu / base_cpu:.3f} CPU")
    print("the 'analysis' ratio is the floor of bench_import's machine part (W_par ÷ (W_seq ÷ workers)) here")


if __name__ == "__main__":
    main()
