"""An import from a slow disk, cold: how much of the disk's time the import hides behind its CPU work.

A 50,000-track collection often sits on a USB disk or a NAS that reads 30–100 MB/s and does not fit
in the page cache. The import's scan hands each folder to the workers as soon as it has read it
(docs/import.md, *Scan and analysis overlap*), so reading and analysing overlap. This benchmark
reads `bench_import`'s library through a throttled disk (Linux cgroup v1 ``blkio`` read limit; run as
root), the library's files evicted from the page cache before each run, and measures in the same run:

- R: reading every file of the library once (``cat``), cold, through the throttle;
- W: the import with every file in the page cache (the CPU work alone);
- C: the import cold, through the throttle.

It prints C ÷ W (what the slow disk costs the import; 1.0 would be nothing), C ÷ (R + W) (what
reading everything first and analysing after would take: 1.0) and C ÷ max(R, W) (1.0: the disk wholly
hidden). The imports are offline (the services refuse connections): identification is not what is
measured here. Medians of ``--repeat`` alternating runs.

Only the music is slow: the program (Python, the libraries, wkmp-ai) stays in the page cache, as
on a machine whose system disk holds it and whose music sits on the slow disk. Dropping the whole
page cache instead, as this benchmark once did, made every import read ~300 MB of program through
the throttle too: 9 s of a 38 s warm import.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import offline_env

from benchmarks.bench_import import OUT, WKMP, make_library

CGROUP = Path("/sys/fs/cgroup/blkio/wkmp-bench-slow-disk")


def _disk_of(path: Path) -> str:
    """``major:minor`` of the whole disk holding ``path`` (a partition's parent: throttles apply to disks)."""
    dev = os.stat(path).st_dev
    sys_dev = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    if (sys_dev / "partition").exists():
        return (sys_dev.resolve().parent / "dev").read_text().strip()
    return f"{os.major(dev)}:{os.minor(dev)}"


def _evict(files: list[Path]) -> None:
    """Drop these files' pages from the page cache (clean pages: a read-only library has no others)."""
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _throttled(command: list[str], env: dict[str, str] | None = None) -> float:
    """Run ``command`` inside the throttled cgroup; its wall time."""
    started = time.monotonic()
    proc = subprocess.Popen(
        ["sh", "-c", f'echo $$ > {CGROUP}/cgroup.procs && exec "$@"', "sh", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if proc.wait() != 0:
        raise SystemExit(f"{command[0]} failed with exit code {proc.returncode}")
    return time.monotonic() - started


def _import(root: Path) -> list[str]:
    for stale in [*root.glob("wkmp.db*"), *root.rglob("*.jpg")]:
        stale.unlink()
    return [*WKMP, "import", str(root), "--root", str(root), "--json"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb-per-s", type=float, default=30.0, help="the disk's read rate (default 30 MB/s)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0 or not CGROUP.parent.is_dir():
        raise SystemExit("needs root and the cgroup v1 blkio controller (/sys/fs/cgroup/blkio)")
    OUT.mkdir(exist_ok=True)
    root = OUT / "library-20x10x180"
    files = make_library(root, 20, 10, 180.0)
    size = sum(f.stat().st_size for f in files)
    CGROUP.mkdir(exist_ok=True)
    limit = int(args.mb_per_s * 2**20)
    (CGROUP / "blkio.throttle.read_bps_device").write_text(f"{_disk_of(root)} {limit}")
    print(f"library: {len(files)} files, {size / 2**20:.0f} MB; disk throttled to {args.mb_per_s:g} MB/s")
    reads, warms, colds = [], [], []
    with tempfile.TemporaryDirectory() as config:
        env = offline_env(Path(config))
        try:
            _throttled(_import(root), env)  # not measured: loads the program into the page cache
            for run in range(1, args.repeat + 1):
                _evict(files)
                reads.append(_throttled(["cat", *map(str, files)]))
                warms.append(_throttled(_import(root), env))  # the files are in the page cache now
                _evict(files)
                colds.append(_throttled(_import(root), env))
                print(f"run {run}: read {reads[-1]:.1f} s, import warm {warms[-1]:.1f} s, cold {colds[-1]:.1f} s")
        finally:
            (CGROUP / "blkio.throttle.read_bps_device").write_text(f"{_disk_of(root)} 0")  # 0: no limit
            with contextlib.suppress(OSError):  # empty by now: each run's processes have ended
                CGROUP.rmdir()
    r, w, c = statistics.median(reads), statistics.median(warms), statistics.median(colds)
    print(f"medians: read R {r:.1f} s, import warm W {w:.1f} s, cold C {c:.1f} s")
    print(f"C ÷ W = {c / w:.3f}  (what the slow disk costs the import; 1.0: nothing)")
    print(f"C ÷ (R + W) = {c / (r + w):.3f}  (1.0: as slow as reading everything first, then analysing)")
    print(f"C ÷ max(R, W) = {c / max(r, w):.3f}  (1.0: the disk wholly hidden behind the CPU work)")


if __name__ == "__main__":
    main()
