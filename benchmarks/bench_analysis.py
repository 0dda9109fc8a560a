"""Benchmark of the audio analysis engine, as ratios against references measured in the same run.

1. Per-file analysis (decode + fingerprint + segmentation + amplitude; flavor off) on 3-minute files
   in 5 formats, against ``fpcalc`` (default 120 s) on the same files. Target: ≤ 2.0×.
2. Flavor: extra seconds per 3-minute track when flavor is on. Target: ≤ 1.0 s (Essentia's
   MusicExtractor, measured with ``--music-extractor``, takes 7–19 s here).
3. Peak RSS analysing a 60-minute FLAC, from ``/usr/bin/time -v``. Target: ≤ 300 MB.

Run: ``.venv/bin/python benchmarks/bench_analysis.py [--repeat 5] [--skip-rss] [--music-extractor]``.
Medians are quoted. ``fpcalc`` is timed as a process (that is how it is used); our analysis is timed
in-process (that is how the import pool runs it). ``fpcalc`` on a 1 s file is printed too, so the
share of its time that is process start-up can be seen.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.synth import music_like, write_audio, write_long_flac  # noqa: E402

from wkmp_ai.audio.analyze import analyze_file  # noqa: E402

FORMATS = ("wav", "flac", "mp3", "ogg", "m4a")
SR = 44100


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fpcalc(path: Path, length: int = 120) -> None:
    subprocess.run(["fpcalc", "-length", str(length), str(path)], check=True, capture_output=True)


def _timed_fpcalc(path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one fpcalc run; CPU from the children's rusage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    _fpcalc(path)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _timed_ours(path: Path, *, flavor: bool = False) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    analyze_file(path, {}, flavor=flavor)
    return time.perf_counter() - start, time.process_time() - cpu


def make_files(folder: Path, per_format: int) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {}
    for i in range(per_format):
        signal = music_like(180.0, sr=SR, seed=100 + i)
        for fmt in FORMATS:
            files.setdefault(fmt, []).append(write_audio(folder / f"track{i}.{fmt}", signal, sr=SR, fmt=fmt))
    return files


def bench_speed(files: dict[str, list[Path]], repeat: int) -> None:
    analyze_file(files["flac"][0], {}, flavor=False)  # warm the imports and libraries once
    _fpcalc(files["flac"][0])
    print("\n== Per-file analysis (flavor off) vs fpcalc -length 120, 3-minute files ==")
    print("runs alternate between the two tools; medians per file, then the median over a format's files")
    print(
        f"{'format':8} {'fpcalc s':>9} {'ours s':>8} {'ratio':>6} {'fpcalc cpu':>11} {'ours cpu':>9} {'cpu ratio':>9}"
    )
    totals = {"ref": 0.0, "ours": 0.0, "ref_cpu": 0.0, "ours_cpu": 0.0}
    for fmt, paths in files.items():
        rows = []
        for path in paths:
            ref, ours = [], []
            for _ in range(repeat):
                ref.append(_timed_fpcalc(path))
                ours.append(_timed_ours(path))
            rows.append(
                [
                    statistics.median(r[0] for r in ref),
                    statistics.median(o[0] for o in ours),
                    statistics.median(r[1] for r in ref),
                    statistics.median(o[1] for o in ours),
                ]
            )
        ref_w, ours_w, ref_c, ours_c = (statistics.median(row[k] for row in rows) for k in range(4))
        totals["ref"] += ref_w
        totals["ours"] += ours_w
        totals["ref_cpu"] += ref_c
        totals["ours_cpu"] += ours_c
        print(
            f"{fmt:8} {ref_w:9.3f} {ours_w:8.3f} {ours_w / ref_w:6.2f} "
            f"{ref_c:11.3f} {ours_c:9.3f} {ours_c / ref_c:9.2f}"
        )
    print(
        f"{'all':8} {totals['ref']:9.3f} {totals['ours']:8.3f} {totals['ours'] / totals['ref']:6.2f} "
        f"{totals['ref_cpu']:11.3f} {totals['ours_cpu']:9.3f} {totals['ours_cpu'] / totals['ref_cpu']:9.2f}"
        "   (sums of the format medians)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tiny = write_audio(Path(tmp) / "tiny.flac", music_like(10.0, sr=SR), sr=SR, fmt="flac")
        startup = _median_time(lambda: _fpcalc(tiny, 8), repeat)
    print(f"fpcalc -length 8 on a 10 s file (mostly process start-up): {startup:.3f} s")


def bench_flavor(paths: list[Path], repeat: int, music_extractor: bool) -> None:
    print("\n== Flavor: extra time per 3-minute track (flavor on − flavor off), medians ==")
    analyze_file(paths[0], {}, flavor=True)  # import Essentia once
    extra = []
    for path in paths:
        on = _median_time(lambda p=path: analyze_file(p, {}, flavor=True), repeat)
        off = _median_time(lambda p=path: analyze_file(p, {}, flavor=False), repeat)
        extra.append(on - off)
        print(f"{path.name:12} on {on:.3f} s, off {off:.3f} s, flavor {on - off:.3f} s")
    print(f"flavor per 3-minute track: median {statistics.median(extra):.3f} s (target ≤ 1.0 s)")
    if music_extractor:
        import essentia.standard as es

        start = time.perf_counter()
        es.MusicExtractor()(str(paths[0]))
        print(f"reference: Essentia MusicExtractor on {paths[0].name}: {time.perf_counter() - start:.2f} s")


RSS_SCRIPT = """
import sys
from wkmp_ai.audio.analyze import analyze_file
result = analyze_file(sys.argv[1], {}, flavor=sys.argv[2] == "1")
print(len(result.passages), round(result.duration_s, 1))
"""
BASE_SCRIPT = "import wkmp_ai.audio.analyze, wkmp_ai.audio.flavor as f; f._WindowAnalyzer()"


def _max_rss_mb(args: list[str]) -> tuple[float, str]:
    proc = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True, check=True)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert match, proc.stderr
    return int(match.group(1)) / 1024, proc.stdout.strip()


def bench_rss(folder: Path) -> None:
    print("\n== Peak RSS analysing a 60-minute FLAC (/usr/bin/time -v) ==")
    path = write_long_flac(folder / "hour.flac", minutes=60, sr=SR)
    print(f"file: {path.stat().st_size / 1e6:.0f} MB, 60 min, 44.1 kHz stereo")
    base, _ = _max_rss_mb([sys.executable, "-c", BASE_SCRIPT])
    print(f"interpreter + numpy/scipy/PyAV/Essentia imported, no audio: {base:.0f} MB")
    for flavor in ("0", "1"):
        rss, out = _max_rss_mb([sys.executable, "-c", RSS_SCRIPT, str(path), flavor])
        label = "flavor on " if flavor == "1" else "flavor off"
        print(f"{label}: peak RSS {rss:.0f} MB (passages, duration: {out})  target ≤ 300 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--per-format", type=int, default=2)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--music-extractor", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    np.seterr(all="ignore")
    with tempfile.TemporaryDirectory(prefix="wkmp-bench-") as tmp:
        folder = Path(tmp)
        files = make_files(folder, args.per_format)
        bench_speed(files, args.repeat)
        bench_flavor(files["flac"] + files["mp3"], args.repeat, args.music_extractor)
        if not args.skip_rss:
            bench_rss(folder)


if __name__ == "__main__":
    main()
