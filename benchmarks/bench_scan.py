"""Scan benchmark: discovery, tag reading and hashing, each against a reference measured in the same run.

    python -m benchmarks.bench_scan [--files 50000] [--rounds 5] [--tree DIR] [--hash-mb 256]

1. Discovery + magic-byte verification of a warm tree (nested Artist/Album folders, 3/4 audio
   headers of eight formats, 1/4 decoys) against
   ``find DIR -type f -print0 | xargs -0 head -c 12 >/dev/null``. Target: ratio >= 0.5.
2. Tag reading (``read_tags``, one process) over the tree's small tagged files. Target: >= 1,000/s.
3. Hashing (``sha256_file``) of large warm files against ``sha256sum``: MB/s and ratio.
4. Incremental rescan (``sync_library``) of the unchanged tree against the first scan into an
   empty database and against ``find DIR -type f -printf '%s %T@'`` (a walk that stats each file,
   which is all an unchanged rescan needs to do).

Rounds alternate reference and ours; figures are medians. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.scan_tree import build_tree, make_templates
from wkmp_ai.db import open_database
from wkmp_ai.ingest.library import sync_library
from wkmp_ai.ingest.pool import process_pool
from wkmp_ai.scan.discover import discover
from wkmp_ai.scan.hashing import sha256_file
from wkmp_ai.scan.tags import read_tags


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def alternate(reference: Callable[[], object], ours: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median seconds of each, run turn about so that both see the same machine load."""
    ref_times, our_times = [], []
    for _ in range(rounds):
        ref_times.append(timed(reference))
        our_times.append(timed(ours))
    return statistics.median(ref_times), statistics.median(our_times)


def bench_discovery(tree: Path, n_files: int, rounds: int) -> None:
    command = f"find '{tree}' -type f -print0 | xargs -0 head -c 12 >/dev/null"

    def reference() -> None:
        subprocess.run(command, shell=True, check=True)

    found: list[int] = []

    def ours() -> None:
        found.append(len(discover(tree, tree, pools=process_pool).files))

    reference()  # warm the page cache and the dentry cache
    ours()
    ref_s, our_s = alternate(reference, ours, rounds)
    print(f"discovery: {n_files} files, {found[-1]} audio found")
    print(f"  reference find | xargs head -c 12: {ref_s:.3f} s  {n_files / ref_s:,.0f} files/s")
    print(f"  wkmp-ai discover (walk + magic):   {our_s:.3f} s  {n_files / our_s:,.0f} files/s")
    print(f"  ratio (our speed / reference):     {ref_s / our_s:.2f}   (target >= 0.5)")


def bench_tags(tree: Path, rounds: int) -> None:
    files = discover(tree, tree, pools=process_pool).files
    sample = files[: min(len(files), 5000)]
    times = [timed(lambda: [read_tags(f.abs_path, f.format) for f in sample]) for _ in range(rounds)]
    seconds = statistics.median(times)
    rate = len(sample) / seconds
    print(f"tags: {len(sample)} small tagged files in {seconds:.3f} s = {rate:,.0f} files/s (target >= 1,000)")


def bench_hashing(workdir: Path, megabytes: int, rounds: int) -> None:
    if shutil.which("sha256sum") is None:
        print("hashing: sha256sum not found; skipped")
        return
    paths = []
    chunk = os.urandom(1 << 20)
    for index in range(2):
        path = workdir / f"big{index}.bin"
        with open(path, "wb") as fh:
            for block in range(megabytes // 2):
                fh.write(chunk[block % 7 :] + chunk[: block % 7])
        paths.append(path)
    total_mb = sum(p.stat().st_size for p in paths) / 1e6

    def reference() -> None:
        subprocess.run(["sha256sum", *map(str, paths)], check=True, stdout=subprocess.DEVNULL)

    def ours() -> None:
        for path in paths:
            sha256_file(path)

    reference()
    ref_s, our_s = alternate(reference, ours, rounds)
    print(f"hashing: {total_mb:.0f} MB in warm files")
    print(f"  reference sha256sum: {total_mb / ref_s:,.0f} MB/s")
    print(f"  wkmp-ai sha256_file: {total_mb / our_s:,.0f} MB/s   ratio {ref_s / our_s:.2f}")


def bench_rescan(tree: Path, workdir: Path, n_files: int, rounds: int) -> None:
    db = open_database(workdir / "rescan" / "wkmp.db")
    try:
        first_s = timed(lambda: sync_library(db, tree, tree.parent))
        find = ["find", str(tree), "-type", "f", "-printf", "%s %T@\n"]
        ref_s, our_s = alternate(
            lambda: subprocess.run(find, check=True, stdout=subprocess.DEVNULL),
            lambda: sync_library(db, tree, tree.parent),
            rounds,
        )
    finally:
        db.close()
    print(f"rescan of the unchanged tree ({n_files} files):")
    print(f"  first scan into an empty database: {first_s:.3f} s")
    print(f"  reference find -printf size+mtime: {ref_s:.3f} s")
    print(
        f"  wkmp-ai rescan (median):           {our_s:.3f} s   {our_s / first_s:.3f} of the first scan, "
        f"{our_s / ref_s:.2f}x the reference's time"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="reuse (or create) the tree here instead of a temporary folder")
    parser.add_argument("--hash-mb", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wkmp-bench-") as work:
        workdir = Path(work)
        tree = args.tree or workdir / "tree"
        if not tree.exists() or not any(tree.iterdir()):
            started = time.perf_counter()
            (workdir / "templates").mkdir()
            build_tree(tree, args.files, make_templates(workdir / "templates"))
            print(f"built {args.files} files under {tree} in {time.perf_counter() - started:.1f} s")
        n_files = sum(len(files) for _, _, files in os.walk(tree))
        print(f"cpus: {os.cpu_count()}, load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        bench_discovery(tree, n_files, args.rounds)
        bench_tags(tree, args.rounds)
        bench_hashing(workdir, args.hash_mb, args.rounds)
        bench_rescan(tree, workdir, n_files, args.rounds)


if __name__ == "__main__":
    main()
