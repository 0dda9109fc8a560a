"""Hostile files, long form: ``wkmp-ai import`` over thousands of mutated audio files.

    .venv/bin/python -m benchmarks.bench_fuzz_files [--inputs 2400] [--seed 16] [--batch 600]

The inputs (tests/hardening/fuzz.py: truncations, byte flips, absurd size fields, nested MP4 atoms,
megabyte tag frames, picture bombs, empty and sparse files, folder-image bombs over MP3, FLAC, Ogg,
MP4, WAV and AIFF seeds) are imported in batches, each into a fresh root by a fresh process. Prints,
per batch and in all: inputs tried, how they ended (analysed / skipped with each code / not audio),
inputs unaccounted for (must be 0), analysis timeouts, wall time and the peak RSS of the process tree
against the same import of as many unmutated seed copies (the reference, measured in the same run).
Exits 1 if an input is unaccounted for, a batch fails, or memory exceeds two capped workers and
the importer (tests/hardening/test_hostile_files.py: PEAK_RSS_MB).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hardening.fuzz import SEED_FORMATS, Input, make_inputs, make_seeds, run_import
from tests.hardening.test_hostile_files import PEAK_RSS_MB


def reference(work: Path, seeds: dict[str, bytes], count: int) -> tuple[float, float]:
    """(seconds, peak MB) of importing ``count`` unmutated seed copies: the memory a batch should need."""
    root = work / "reference"
    inputs = []
    for n in range(count):
        fmt = list(seeds)[n % len(seeds)]
        path = root / "fuzz" / f"{n // 10:04d}" / f"{n:05d}-seed{SEED_FORMATS[fmt]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(seeds[fmt] + n.to_bytes(4, "big"))  # distinct bytes: no duplicates
        inputs.append(Input(path.relative_to(root).as_posix(), fmt, "none"))
    run = run_import(root, inputs, work, timeout=3600)
    shutil.rmtree(root)
    return run.seconds, run.peak_rss_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=2400)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--batch", type=int, default=600)
    args = parser.parse_args()
    started = time.monotonic()
    totals: Counter[str] = Counter()
    mutations: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()  # analysis errors that are bugs rather than bad files
    tried = unaccounted = timeouts = 0
    peak = 0.0
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as scratch:
        work = Path(scratch)
        seeds = make_seeds(work / "seeds")
        ref_s, ref_mb = reference(work, seeds, min(args.batch, args.inputs))
        print(f"reference: {min(args.batch, args.inputs)} unmutated files in {ref_s:.1f} s, peak RSS {ref_mb:.0f} MB")
        for batch, start in enumerate(range(0, args.inputs, args.batch)):
            count = min(args.batch, args.inputs - start)
            root = work / f"batch{batch}"
            inputs = make_inputs(root, seeds, count, seed=args.seed * 1000 + batch, sparse_sizes=(1 << 30, 4 << 30))
            try:
                run = run_import(root, inputs, work, timeout=3600)
            except AssertionError as exc:
                print(f"batch {batch}: {exc}")
                ok = False
                continue
            tried += len(inputs)
            mutations.update(i.mutation for i in inputs)
            ends = Counter(
                "analysed" if o == "analysed" else ("not audio" if o == "not audio" else o.replace("failed:", "skip "))
                for o in run.outcome.values()
            )
            totals.update(ends)
            lost = run.unaccounted()
            unaccounted += len(lost)
            timeouts += run.codes["ANALYSIS_TIMEOUT"]
            peak = max(peak, run.peak_rss_mb)
            for error in run.summary.get("errors", []):
                if error["error_code"] in ("ANALYSIS_FAILED", "INTERNAL_ERROR", "ANALYSIS_TIMEOUT"):
                    unexpected[f"{error['error_code']}: {error['error_message'][:160]}"] += 1
            ok = ok and run.exit_code == 0 and run.summary.get("state") == "COMPLETED" and not lost
            print(
                f"batch {batch}: {len(inputs)} inputs, exit {run.exit_code}, {run.summary.get('state')},"
                f" {run.seconds:.1f} s, peak RSS {run.peak_rss_mb:.0f} MB, unaccounted {len(lost)} {lost[:5]}",
                flush=True,
            )
            shutil.rmtree(root)
    print(f"\ninputs fuzzed: {tried} ({dict(mutations)})")
    print(f"how they ended: {dict(totals.most_common())}")
    print(f"unaccounted for: {unaccounted}; analysis timeouts: {timeouts}")
    for message, count in unexpected.most_common(10):
        print(f"  {count:4d} x {message}")
    print(f"peak RSS of the process tree: {peak:.0f} MB (unmutated reference {ref_mb:.0f} MB: {peak / ref_mb:.2f}x)")
    print(f"{time.monotonic() - started:.0f} s in all")
    ok = ok and unaccounted == 0 and peak < PEAK_RSS_MB
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
