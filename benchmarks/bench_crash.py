"""Crash safety, long form: ``kill -9`` of ``wkmp-ai serve`` or of its analysis workers at seeded
random points of an import, each followed by a restart and a re-import, then the whole database checked.

    .venv/bin/python -m benchmarks.bench_crash [--trials 20] [--seed 16]

Half the trials kill the service, half kill two workers a moment apart (the suite runs three of
these: tests/hardening/test_crash_safety.py). A trial survives when ``PRAGMA integrity_check`` is
ok, ``PRAGMA foreign_key_check`` is empty and every file has exactly one complete set of rows
(passages, analysed state, identification, nothing twice). Prints one line per trial and the
count of survivors; exits 1 if any trial lost something.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes import FakeServices, Rates
from tests.hardening.crash import run_trial
from tests.ingest.test_kill_resume import kill_library


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    started = time.monotonic()
    survived = 0
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as scratch:
        work = Path(scratch)
        library = work / "library"
        world, tracks = kill_library(library)
        with FakeServices(world, rates=Rates.fast(50.0), tolerance=0.5) as fakes:
            for n in range(args.trials):
                kind = "serve" if n % 2 == 0 else "worker"
                try:
                    trial = run_trial(kind, args.seed * 1000 + n, library, tracks, work, fakes.settings_changes())
                except AssertionError:
                    print(f"trial {n + 1:2d} {kind:6s}: LOST DATA")
                    traceback.print_exc()
                    continue
                survived += 1
                print(
                    f"trial {n + 1:2d} {kind:6s}: {trial.kills} kill(s) at {trial.killed_at:28s}"
                    f" -> complete after restart and re-import ({trial.seconds:.1f} s)",
                    flush=True,
                )
    print(
        f"\ntrials survived: {survived} of {args.trials} ({len(tracks)} files each,"
        f" {time.monotonic() - started:.0f} s in all)"
    )
    return 0 if survived == args.trials else 1


if __name__ == "__main__":
    raise SystemExit(main())
