"""Our analysis over every track of the real-music corpus and its transcodes, against fpcalc.

The corpus is Debian's ``singularity-music`` and ``fretsonfire-songs-sectoid`` (24 Ogg Vorbis
tracks, see ``tests/realmusic.py``), fetched and cached as the tests do, and each track transcoded
to FLAC, MP3, AAC (m4a), Opus, Vorbis and WAV (cached too; the first run spends a few minutes
encoding). For every file it counts:

- damage warnings (``PARTIAL_DECODE``; none is expected on intact files) and the other warnings;
- files whose passages tile the file exactly (first at tick 0, last at the decoded end, shared
  boundaries), and how many are one passage;
- one-passage files whose fingerprint string equals ``fpcalc -length 120 FILE``'s.

Run: ``.venv/bin/python benchmarks/bench_real_music.py [--formats ogg,flac,...] [--jobs 2]``.
``--ffmpeg`` adds AAC, Opus and MP3 transcodes made by the ``ffmpeg`` command (Debian ``ffmpeg``,
FFmpeg 5.1: the way the problem was first seen), besides PyAV's.
To count what another version of the code does, put its ``src`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.realmusic import TRANSCODES, corpus, original_tracks, transcode  # noqa: E402

from wkmp_ai.audio.analyze import analyze_file  # noqa: E402
from wkmp_ai.errors import IngestError  # noqa: E402
from wkmp_ai.ticks import seconds_to_ticks  # noqa: E402


def fpcalc(path: Path) -> str | None:
    """``fpcalc -length 120``'s fingerprint; it exits 3 after decoding errors but still prints one."""
    out = subprocess.run(["fpcalc", "-length", "120", str(path)], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("FINGERPRINT="):
            return line.split("=", 1)[1]
    return None


FFMPEG_CLI = {"ffmpeg-m4a": ("aac", ".m4a"), "ffmpeg-opus": ("libopus", ".opus"), "ffmpeg-mp3": ("libmp3lame", ".mp3")}


def ffmpeg_transcode(track: Path, fmt: str, root: Path) -> Path:
    codec, suffix = FFMPEG_CLI[fmt]
    out = root / "transcodes-ffmpeg" / (f"{track.parent.name}-{track.stem}".replace(" ", "_") + suffix)
    out.parent.mkdir(exist_ok=True)
    if not out.exists():
        tmp = out.with_name("part-" + out.name)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(track), "-c:a", codec, str(tmp)], check=True)
        tmp.replace(out)
    return out


def examine(path_text: str) -> dict:
    path = Path(path_text)
    started = time.perf_counter()
    try:
        result = analyze_file(path, {}, flavor=False)
    except IngestError as exc:
        return {"path": path_text, "error": f"{exc.code}: {exc.detail}"}
    seconds = time.perf_counter() - started
    passages = result.passages
    tiles = (
        passages[0].start_ticks == 0
        and passages[-1].end_ticks == seconds_to_ticks(result.duration_s)
        and all(a.end_ticks == b.start_ticks for a, b in itertools.pairwise(passages))
    )
    reference = fpcalc(path) if len(passages) == 1 else None
    return {
        "path": path_text,
        "seconds": seconds,
        "duration_s": result.duration_s,
        "passages": len(passages),
        "tiles": tiles,
        "warnings": [f"{w.code}: {w.message}" for w in result.warnings],
        "fp_equal": reference is not None and passages[0].fingerprint == reference,
        "fp_reference": reference is not None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="original," + ",".join(TRANSCODES))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print every warning")
    parser.add_argument("--ffmpeg", action="store_true", help="also transcodes made by the ffmpeg command")
    args = parser.parse_args()
    if args.ffmpeg:
        args.formats += "," + ",".join(FFMPEG_CLI)
    root = corpus()
    tracks = original_tracks(root)
    files: dict[str, list[Path]] = {}
    for fmt in args.formats.split(","):
        if fmt == "original":
            files[fmt] = tracks
        else:
            print(f"transcoding to {fmt} (cached after the first run)...", flush=True)
            make = ffmpeg_transcode if fmt in FFMPEG_CLI else transcode
            with ProcessPoolExecutor(args.jobs) as pool:
                files[fmt] = list(pool.map(make, tracks, [fmt] * len(tracks), [root] * len(tracks)))
    header = ("format", "files", "damage", "other", "tile", "1-pass", "fp=fpcalc", "s/file")
    print("{:<11} {:>5} {:>6} {:>5} {:>4} {:>6} {:>9} {:>6}".format(*header))
    totals: collections.Counter[str] = collections.Counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        for fmt, paths in files.items():
            rows = list(pool.map(examine, [str(p) for p in paths]))
            counts = collections.Counter()
            for row in rows:
                counts["files"] += 1
                if "error" in row:
                    counts["errors"] += 1
                    print(f"  {row['path']}: {row['error']}")
                    continue
                damaged = [w for w in row["warnings"] if w.startswith("PARTIAL_DECODE")]
                counts["damage"] += bool(damaged)
                counts["other"] += bool(len(row["warnings"]) - len(damaged))
                counts["tiles"] += row["tiles"]
                counts["one"] += row["passages"] == 1
                counts["fp_reference"] += row["fp_reference"]
                counts["fp_equal"] += row["fp_equal"]
                counts["seconds"] += row["seconds"]
                if args.verbose or damaged:
                    for warning in row["warnings"] if args.verbose else damaged:
                        print(f"  {Path(row['path']).name}: {warning}")
            totals.update(counts)
            analysed = max(1, counts["files"] - counts["errors"])
            print(
                f"{fmt:<11} {counts['files']:>5} {counts['damage']:>6} {counts['other']:>5} {counts['tiles']:>4} "
                f"{counts['one']:>6} {counts['fp_equal']:>4}/{counts['fp_reference']:<4} "
                f"{counts['seconds'] / analysed:>6.2f}",
                flush=True,
            )
    print(
        f"all: {totals['files']} files, {totals['errors']} undecodable, {totals['damage']} with a damage warning, "
        f"{totals['tiles']} tiling exactly, {totals['fp_equal']} of {totals['fp_reference']} one-passage "
        "fingerprints equal to fpcalc's"
    )


if __name__ == "__main__":
    main()
