"""Benchmark of the audio analysis engine, as ratios against references measured in the same run.

1. ``wkmp-ai analyze --no-flavor --json`` over 20 files (FLAC, MP3, Vorbis, AAC, Opus; 3 minutes
   each), one process, its start included — what a user running it on a handful of files waits
   for — against ``fpcalc`` run on each file (its default 120 s). Goal ≤ 1.6×. The same over 20
   real recordings (the test corpus' tracks transcoded to the five formats) when the corpus is
   cached or can be fetched.
2. Per-file analysis in-process (flavor off), per format, against ``fpcalc``; also shown: decoding
   the whole file with PyAV and nothing else, and our decoder making the analysis' blocks and nothing
   else — the floor any analysis that must hear the whole file stands on (``fpcalc`` decodes only
   120 s of it). Section 1 also runs the CLI with PyAV's decode loop (``WKMP_DECODER=pyav``).
3. Flavor: extra seconds per 3-minute track with flavor on. Goal ≤ 0.2 s (Essentia's
   MusicExtractor, ``--music-extractor``, takes ~9 s a track here).
4. Peak RSS analysing a 60-minute FLAC, from ``/usr/bin/time -v``. Target ≤ 300 MB.

Run: ``.venv/bin/python benchmarks/bench_analysis.py [--repeat 5] [--skip-rss] [--only cli,speed,...]``.
Runs of the tools alternate and medians are quoted, wall time and CPU time (CPU time is what a
pool with one worker per core pays, and it is less disturbed by other load on the machine).
``fpcalc`` is timed as a process, as it is used; section 2 times our analysis in-process, as the
import pool runs it. The generated files are kept in ``benchmarks/out/analysis-3min/``.
"""

from __future__ import annotations

import argparse
import os
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

# As in the import's workers (wkmp_ai.audio sets it, but NumPy is loaded here first): one BLAS
# thread, else the in-process flavor figures count the CPU of threads the import never runs.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.realmusic import CorpusUnavailable, corpus, original_tracks, transcode  # noqa: E402
from tests.synth import music_like, write_audio, write_long_flac  # noqa: E402

from wkmp_ai.audio.analyze import analyze_file  # noqa: E402
from wkmp_ai.audio.decode import open_audio  # noqa: E402
from wkmp_ai.heap import reuse_freed_memory  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "analysis-3min"
FORMATS = ("wav", "flac", "mp3", "ogg", "m4a", "opus")
CLI_FORMATS = ("flac", "mp3", "ogg", "m4a", "opus")
Timing = tuple[float, float]  # (wall, CPU) seconds
WKMP = [sys.executable, "-m", "wkmp_ai"]
STARTUP = "import wkmp_ai.cli, wkmp_ai.audio.kernels as k; k.kernels()"


def _child(args: list[str]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=False, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _fpcalc(path: Path, length: int = 120) -> Timing:
    return _child(["fpcalc", "-length", str(length), str(path)])


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


def _blocks_only(path: Path) -> None:
    """Our decoder (the C loop when it is built) making the analysis' blocks, nothing else."""
    with open_audio(path) as audio:
        for _ in audio.blocks():
            pass


def _medians(samples: list[Timing]) -> Timing:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def make_files(per_format: int) -> dict[str, list[Path]]:
    """3-minute generated tracks, ``per_format`` in each format, made once and kept in OUT."""
    OUT.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {}
    for i in range(per_format):
        signal: dict[int, object] = {}
        for fmt in FORMATS:
            sr = 48000 if fmt == "opus" else 44100
            path = OUT / f"track{i}.{fmt}"
            if not path.exists():
                if sr not in signal:
                    signal[sr] = music_like(180.0, sr=sr, seed=100 + i)
                tmp = path.with_name(f"part-{path.name}")
                write_audio(tmp, signal[sr], sr=sr, fmt=fmt)  # type: ignore[arg-type]
                tmp.replace(path)
            files.setdefault(fmt, []).append(path)
    return files


def real_files() -> list[Path] | None:
    """Four real tracks (one of each kind in the corpus) in the five CLI formats, or None."""
    try:
        root = corpus()
    except CorpusUnavailable as exc:
        print(f"(real recordings skipped: {exc})")
        return None
    tracks = original_tracks(root)
    chosen = [tracks[i] for i in (1, 4, 9, 15)]  # a song, a guitar stem, two soundtrack pieces; 144-310 s
    return [transcode(track, fmt, root) for track in chosen for fmt in CLI_FORMATS]


def bench_cli(label: str, paths: list[Path], repeat: int) -> None:
    print(f"\n== 1. wkmp-ai analyze --no-flavor --json, one process, start included, vs fpcalc per file: {label} ==")
    seconds = 0.0
    for path in paths:
        with av.open(str(path)) as container:
            seconds += (container.duration or 0) / 1e6
    print(f"{len(paths)} files, {seconds / 60:.1f} min of audio; alternating runs, medians")
    ref: list[Timing] = []
    ours: list[Timing] = []
    pyav: list[Timing] = []
    cli = [*WKMP, "analyze", "--no-flavor", "--json", *map(str, paths)]
    _child([*WKMP, "analyze", "--no-flavor", "--json", str(paths[0])])  # warm the page cache and .pyc
    for run in range(repeat):
        fp = [_fpcalc(p) for p in paths]
        ref.append((sum(t[0] for t in fp), sum(t[1] for t in fp)))
        ours.append(_child(cli))
        pyav.append(_child(["env", "WKMP_DECODER=pyav", *cli]))
        (rw, rc), (ow, oc), (pw, pc) = ref[-1], ours[-1], pyav[-1]
        print(
            f"run {run + 1}: fpcalc {rw:.2f} s ({rc:.2f} s CPU), ours {ow:.2f} s ({oc:.2f} s CPU), "
            f"ours with PyAV's decode loop {pw:.2f} s ({pc:.2f} s CPU)"
        )
    (rw, rc), (ow, oc), (pw, pc) = _medians(ref), _medians(ours), _medians(pyav)
    print(f"with PyAV's decode loop instead of ours (WKMP_DECODER=pyav): {pw / rw:.2f} wall, {pc / rc:.2f} CPU")
    walls = sorted(o[0] / r[0] for o, r in zip(ours, ref, strict=True))
    print(
        f"medians: fpcalc {rw:.2f} s, ours {ow:.2f} s: ratio {ow / rw:.2f} wall (runs {walls[0]:.2f}–{walls[-1]:.2f}), "
        f"{oc / rc:.2f} CPU  (goal ≤ 1.6)"
    )
    start = _medians([_child([sys.executable, "-c", STARTUP]) for _ in range(3)])
    print(f"wkmp-ai analyze's start-up (interpreter, CLI, audio modules): {start[0]:.2f} s wall, {start[1]:.2f} s CPU")


def bench_speed(files: dict[str, list[Path]], repeat: int) -> None:
    first = files["flac"][0]
    analyze_file(first, {}, flavor=False)  # warm imports and libraries once
    _fpcalc(first)
    print("\n== 2. Per-file analysis in-process (flavor off) vs fpcalc -length 120, 3-minute files ==")
    print(
        "medians over alternating runs, CPU seconds in the last columns: 'pyav' = PyAV decoding the whole file, "
        "nothing else; 'blocks' = our decoder making the analysis' blocks, nothing else"
    )
    header = f"{'format':7} {'fpcalc':>7} {'ours':>7} {'ratio':>6} | {'cpu: fpcalc':>11} {'ours':>6} {'ratio':>6}"
    print(f"{header} | {'pyav':>6} {'blocks':>6}")
    sums = [0.0] * 6
    for fmt, paths in files.items():
        ref: list[Timing] = []
        ours: list[Timing] = []
        floor: list[Timing] = []
        blocks: list[Timing] = []
        for path in paths:
            for _ in range(repeat):
                ref.append(_fpcalc(path))
                ours.append(_in_process(lambda p=path: analyze_file(p, {}, flavor=False)))
                floor.append(_in_process(lambda p=path: _decode_only(p)))
                blocks.append(_in_process(lambda p=path: _blocks_only(p)))
        (rw, rc), (ow, oc), (_, dc), (_, bc) = _medians(ref), _medians(ours), _medians(floor), _medians(blocks)
        for i, v in enumerate((rw, ow, rc, oc, dc, bc)):
            sums[i] += v
        print(f"{fmt:7} {rw:7.3f} {ow:7.3f} {ow / rw:6.2f} | {rc:11.3f} {oc:6.3f} {oc / rc:6.2f} | {dc:6.3f} {bc:6.3f}")
    rw, ow, rc, oc, dc, bc = sums
    columns = f"{rw:7.3f} {ow:7.3f} {ow / rw:6.2f} | {rc:11.3f} {oc:6.3f} {oc / rc:6.2f} | {dc:6.3f} {bc:6.3f}"
    print(f"{'all':7} {columns}  (sums)")
    with tempfile.TemporaryDirectory() as tmp:
        tiny = write_audio(Path(tmp) / "tiny.flac", music_like(10.0, sr=44100), sr=44100, fmt="flac")
        startup = _medians([_fpcalc(tiny, 8) for _ in range(repeat)])
    print(f"fpcalc -length 8 on a 10 s file (mostly its start-up): {startup[0]:.3f} s wall, {startup[1]:.3f} s CPU")


def bench_flavor(paths: list[Path], repeat: int, music_extractor: bool) -> None:
    print("\n== 3. Flavor: extra time per 3-minute track (flavor on minus flavor off), medians ==")
    analyze_file(paths[0], {}, flavor=True)  # load Essentia once
    extra = []
    for path in paths:
        on = _medians([_in_process(lambda p=path: analyze_file(p, {}, flavor=True)) for _ in range(repeat)])
        off = _medians([_in_process(lambda p=path: analyze_file(p, {}, flavor=False)) for _ in range(repeat)])
        extra.append((on[0] - off[0], on[1] - off[1]))
        flavor_s = f"flavor {on[0] - off[0]:.3f} s ({on[1] - off[1]:.3f} s CPU)"
        print(f"{path.name:12} on {on[0]:.3f} s, off {off[0]:.3f} s: {flavor_s}")
    wall, cpu = _medians(extra)
    print(f"flavor per 3-minute track: {wall:.3f} s wall, {cpu:.3f} s CPU (goal ≤ 0.2 s)")
    if music_extractor:
        import essentia.standard as es

        start = time.perf_counter()
        es.MusicExtractor()(str(paths[0]))
        print(f"reference, same run: Essentia MusicExtractor on {paths[0].name}: {time.perf_counter() - start:.2f} s")


RSS_SCRIPT = """
import sys
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.heap import reuse_freed_memory
reuse_freed_memory()  # as a worker
result = analyze_file(sys.argv[1], {}, flavor=sys.argv[2] == "1")
print(len(result.passages), "passages,", round(result.duration_s, 1), "s")
"""
BASE_SCRIPT = "import wkmp_ai.audio.analyze, wkmp_ai.audio.flavor as f; f._WindowAnalyzer()"


def _max_rss_mb(args: list[str]) -> tuple[float, str]:
    proc = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True, check=True)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert match, proc.stderr
    return int(match.group(1)) / 1024, proc.stdout.strip()


def bench_rss() -> None:
    print("\n== 4. Peak RSS analysing a 60-minute FLAC (/usr/bin/time -v, 'Maximum resident set size') ==")
    if not Path("/usr/bin/time").exists():
        print("skipped: /usr/bin/time is missing (apt-get install time)")
        return
    with tempfile.TemporaryDirectory(prefix="wkmp-bench-") as tmp:
        path = write_long_flac(Path(tmp) / "hour.flac", minutes=60, sr=44100)
        print(f"file: {path.stat().st_size / 1e6:.0f} MB, 60 min, 44.1 kHz stereo 16-bit")
        base, _ = _max_rss_mb([sys.executable, "-c", BASE_SCRIPT])
        print(f"interpreter with numpy, PyAV and Essentia loaded, no audio: {base:.0f} MiB")
        for flavor in ("0", "1"):
            start = time.perf_counter()
            rss, out = _max_rss_mb([sys.executable, "-c", RSS_SCRIPT, str(path), flavor])
            label = "flavor on " if flavor == "1" else "flavor off"
            print(f"{label}: peak RSS {rss:.0f} MiB in {time.perf_counter() - start:.1f} s ({out}); target ≤ 300 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--per-format", type=int, default=2, help="files per format in sections 2 and 3")
    parser.add_argument("--only", default="cli,speed,flavor,rss", help="sections to run (comma-separated)")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--music-extractor", action="store_true")
    args = parser.parse_args()
    if shutil.which("fpcalc") is None:
        sys.exit("fpcalc is needed as the reference (apt-get install libchromaprint-tools)")
    only = set(args.only.split(","))
    reuse_freed_memory()  # sections 2 and 3 analyse in this process, as a worker does (wkmp_ai.heap)
    files = make_files(max(args.per_format, 4))
    if "cli" in only:
        bench_cli("generated 3-minute tracks", [p for fmt in CLI_FORMATS for p in files[fmt][:4]], args.repeat)
        real = real_files()
        if real:
            bench_cli("real recordings", real, args.repeat)
    if "speed" in only:
        bench_speed({fmt: paths[: args.per_format] for fmt, paths in files.items()}, args.repeat)
    if "flavor" in only:
        bench_flavor(files["flac"][: args.per_format] + files["mp3"][: args.per_format], args.repeat, False)
    if "rss" in only and not args.skip_rss:  # before any essentia.standard import, which would inflate the figures
        bench_rss()
    if args.music_extractor:
        bench_flavor(files["flac"][:1], 1, True)


if __name__ == "__main__":
    main()
