"""What a rip's cue sheet costs or saves in the analysis, as ratios measured in the same run.

A gapless album rip (one FLAC of ``--tracks`` tracks of 150 s music, no silence between them) is
analysed as the import does (flavor on), with its cue sheet (passages at the cue's positions, each
fingerprinted over its first 120 s) and without (``use_index=False``: silence segmentation finds one
passage). Runs alternate; medians of CPU time are quoted. Also: finding the index (listing the
folder, parsing the cue, reading the tags) per file, against the analysis of a 3-minute file.

Run: ``.venv/bin/python benchmarks/bench_cue.py [--repeat 5] [--tracks 8]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.synth import concat, music_like, write_audio  # noqa: E402

from wkmp_ai.audio.analyze import analyze_file  # noqa: E402
from wkmp_ai.scan.findindex import find_track_index  # noqa: E402

SR = 44100
TRACK_S = 150


def _cue(name: str, tracks: int) -> str:
    lines = ['PERFORMER "Bench"', 'TITLE "Gapless"', f'FILE "{name}" WAVE']
    for n in range(tracks):
        seconds = n * TRACK_S
        at = f"{seconds // 60:02d}:{seconds % 60:02d}:00"
        lines += [f"  TRACK {n + 1:02d} AUDIO", f'    TITLE "Track {n + 1}"', f"    INDEX 01 {at}"]
    return "\n".join(lines) + "\n"


def _cpu(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tracks", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        album = write_audio(
            folder / "Album.flac", concat(*(music_like(TRACK_S, sr=SR, seed=n) for n in range(args.tracks))), sr=SR
        )
        (folder / "Album.cue").write_text(_cue("Album.wav", args.tracks))
        short = write_audio(folder / "Short.flac", music_like(180.0, sr=SR, seed=99), sr=SR)
        with_cue, without = [], []
        for _ in range(args.repeat):
            with_cue.append(_cpu(lambda: analyze_file(album, {}, flavor=True)))
            without.append(_cpu(lambda: analyze_file(album, {}, flavor=True, use_index=False)))
        check = analyze_file(album, {}, flavor=False)
        assert len(check.passages) == args.tracks and all(p.fingerprint for p in check.passages)
        finds = [_cpu(lambda: [find_track_index(album) for _ in range(100)]) / 100 for _ in range(args.repeat)]
        short_cpu = statistics.median(_cpu(lambda: analyze_file(short, {}, flavor=True)) for _ in range(3))
    a, b = statistics.median(with_cue), statistics.median(without)
    minutes = args.tracks * TRACK_S / 60
    print(f"{minutes:.0f}-minute gapless album, {args.tracks} tracks, flavor on, CPU medians of {args.repeat}:")
    print(f"  with its cue sheet ({args.tracks} passages)    {a:.2f} s")
    print(f"  without (silences: 1 passage)      {b:.2f} s")
    print(f"  ratio with/without                 {a / b:.3f}")
    f = statistics.median(finds)
    print(f"finding the index: {f * 1000:.2f} ms per file = {f / short_cpu:.4f} of a 3-minute file's analysis")


if __name__ == "__main__":
    main()
