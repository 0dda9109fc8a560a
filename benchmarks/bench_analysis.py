"""Benchmark of the audio analysis engine, as ratios against references measured in the same run.

1. Per-file analysis (decode + fingerprint + segmentation + amplitude; flavor off) on 3-minute
   files in 5 formats, against ``fpcalc`` (its default 120 s) on the same files. Target ≤ 2.0×.
   Also shown: decoding the whole file with PyAV and nothing else — the floor any analysis that
   must hear the whole file stands on (fpcalc decodes only 120 s of it).
2. Flavor: extra seconds per 3-minute track with flavor on. Target ≤ 1.0 s on one core
   (Essentia's MusicExtractor, ``--music-extractor``, takes 7–19 s a track here).
3. Peak RSS analysing a 60-minute FLAC, from ``/usr/bin/time -v``. Target ≤ 300 MB.

Run: ``.venv/bin/python benchmarks/bench_analysis.py [--repeat 7] [--skip-rss] [--music-extractor]``.
Runs of the tools alternate and medians are quoted, wall time and CPU time (CPU time is what a
pool with one worker per core pays, and it is less disturbed by other load on the machine).
``fpcalc`` is timed as a process, as it is used; our analysis in-process, as the import pool runs it.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.synth import music_like, write_audio, write_long_flac  # noqa: E402

from wkmp_ai.audio.analyze import analyze_file  # noqa: E402

FORMATS = ("wav", "flac", "mp3", "ogg", "m4a")
SR = 44100
Timing = tuple[float, float]  # (wall, CPU) seconds


def _fpcalc(path: Path, length: int = 120) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(["fpcalc", "-length", str(length), str(path)], check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _in_process(fn: Callable[[], object]) -> Timing:
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def _decode_only(path: Path) -> None:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        stream.codec_context.thread_count = 1
        for _ in container.decode(stream):
            pass


def _medians(samples: list[Timing]) -> Timing:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def make_files(folder: Path, per_format: int) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {}
    for i in range(per_format):
        signal = music_like(180.0, sr=SR, seed=100 + i)
        for fmt in FORMATS:
            files.setdefault(fmt, []).append(write_audio(folder / f"track{i}.{fmt}", signal, sr=SR, fmt=fmt))
    return files


def bench_speed(files: dict[str, list[Path]], repeat: int) -> None:
    first = files["flac"][0]
    analyze_file(first, {}, flavor=False)  # warm imports and libraries once
    _fpcalc(first)
    print("\n== 1. Per-file analysis (flavor off) vs fpcalc -length 120, 3-minute files ==")
    print("medians over alternating runs; 'decode' = PyAV decoding the whole file, nothing else")
    header = f"{'format':7} {'fpcalc':>7} {'ours':>7} {'ratio':>6} | {'cpu: fpcalc':>11} {'ours':>6} {'ratio':>6}"
    print(f"{header} | {'decode':>7}")
    sums = [0.0] * 5
    for fmt, paths in files.items():
        ref: list[Timing] = []
        ours: list[Timing] = []
        floor: list[Timing] = []
        for path in paths:
            for _ in range(repeat):
                ref.append(_fpcalc(path))
                ours.append(_in_process(lambda p=path: analyze_file(p, {}, flavor=False)))
                floor.append(_in_process(lambda p=path: _decode_only(p)))
        (rw, rc), (ow, oc), (dw, _) = _medians(ref), _medians(ours), _medians(floor)
        for i, v in enumerate((rw, ow, rc, oc, dw)):
            sums[i] += v
        print(f"{fmt:7} {rw:7.3f} {ow:7.3f} {ow / rw:6.2f} | {rc:11.3f} {oc:6.3f} {oc / rc:6.2f} | {dw:7.3f}")
    rw, ow, rc, oc, dw = sums
    print(f"{'all':7} {rw:7.3f} {ow:7.3f} {ow / rw:6.2f} | {rc:11.3f} {oc:6.3f} {oc / rc:6.2f} | {dw:7.3f}  (sums)")
    with tempfile.TemporaryDirectory() as tmp:
        tiny = write_audio(Path(tmp) / "tiny.flac", music_like(10.0, sr=SR), sr=SR, fmt="flac")
        startup = _medians([_fpcalc(tiny, 8) for _ in range(repeat)])
    print(f"fpcalc -length 8 on a 10 s file (mostly its start-up): {startup[0]:.3f} s wall, {startup[1]:.3f} s CPU")


def bench_flavor(paths: list[Path], repeat: int, music_extractor: bool) -> None:
    print("\n== 2. Flavor: extra time per 3-minute track (flavor on minus flavor off), medians ==")
    analyze_file(paths[0], {}, flavor=True)  # load Essentia once
    extra = []
    for path in paths:
        on = _medians([_in_process(lambda p=path: analyze_file(p, {}, flavor=True)) for _ in range(repeat)])
        off = _medians([_in_process(lambda p=path: analyze_file(p, {}, flavor=False)) for _ in range(repeat)])
        extra.append((on[0] - off[0], on[1] - off[1]))
        flavor_s = f"flavor {on[0] - off[0]:.3f} s ({on[1] - off[1]:.3f} s CPU)"
        print(f"{path.name:12} on {on[0]:.3f} s, off {off[0]:.3f} s: {flavor_s}")
    wall, cpu = _medians(extra)
    print(f"flavor per 3-minute track: {wall:.3f} s wall, {cpu:.3f} s CPU (target ≤ 1.0 s)")
    if music_extractor:
        import essentia.standard as es

        start = time.perf_counter()
        es.MusicExtractor()(str(paths[0]))
        print(f"reference, same run: Essentia MusicExtractor on {paths[0].name}: {time.perf_counter() - start:.2f} s")


RSS_SCRIPT = """
import sys
from wkmp_ai.audio.analyze import analyze_file
result = analyze_file(sys.argv[1], {}, flavor=sys.argv[2] == "1")
print(len(result.passages), "passages,", round(result.duration_s, 1), "s")
"""
BASE_SCRIPT = "import wkmp_ai.audio.analyze, wkmp_ai.audio.flavor as f; f._WindowAnalyzer()"


def _max_rss_mb(args: list[str]) -> tuple[float, str]:
    proc = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True, check=True)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert match, proc.stderr
    return int(match.group(1)) / 1024, proc.stdout.strip()


def bench_rss(folder: Path) -> None:
    print("\n== 3. Peak RSS analysing a 60-minute FLAC (/usr/bin/time -v, 'Maximum resident set size') ==")
    if not Path("/usr/bin/time").exists():
        print("skipped: /usr/bin/time is missing (apt-get install time)")
        return
    path = write_long_flac(folder / "hour.flac", minutes=60, sr=SR)
    print(f"file: {path.stat().st_size / 1e6:.0f} MB, 60 min, 44.1 kHz stereo 16-bit")
    base, _ = _max_rss_mb([sys.executable, "-c", BASE_SCRIPT])
    print(f"interpreter with numpy, SciPy, PyAV and Essentia loaded, no audio: {base:.0f} MiB")
    for flavor in ("0", "1"):
        start = time.perf_counter()
        rss, out = _max_rss_mb([sys.executable, "-c", RSS_SCRIPT, str(path), flavor])
        label = "flavor on " if flavor == "1" else "flavor off"
        print(f"{label}: peak RSS {rss:.0f} MiB in {time.perf_counter() - start:.1f} s ({out}); target ≤ 300 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--per-format", type=int, default=2)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--music-extractor", action="store_true")
    args = parser.parse_args()
    if shutil.which("fpcalc") is None:
        sys.exit("fpcalc is needed as the reference (apt-get install libchromaprint-tools)")
    with tempfile.TemporaryDirectory(prefix="wkmp-bench-") as tmp:
        folder = Path(tmp)
        files = make_files(folder, args.per_format)
        bench_speed(files, args.repeat)
        bench_flavor(files["flac"] + files["mp3"], args.repeat, args.music_extractor)
        if not args.skip_rss:  # before any essentia.standard import, which would inflate the figures
            bench_rss(folder)


if __name__ == "__main__":
    main()
