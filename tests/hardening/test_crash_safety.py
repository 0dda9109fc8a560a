"""Crash safety (issue 16, standing test): ``kill -9`` of the service and of single analysis workers
at seeded random points of an import, then a restart and a re-import; the database ends intact with
exactly one complete set of rows per file. ``benchmarks/bench_crash.py`` runs 20 such trials; the
import process itself is killed at ten random moments by ``tests/ingest/test_kill_resume.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeServices, World
from tests.hardening.crash import run_trial
from tests.ingest.library import Track
from tests.ingest.test_kill_resume import fakes, source

__all__ = ["fakes", "source"]  # the library, its fake world and services, shared with test_kill_resume

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("kind", "seed"), [("serve", 1), ("serve", 2), ("worker", 3)])
def test_kill_9_then_restart_and_reimport(
    source: tuple[Path, World, list[Track]], fakes: FakeServices, tmp_path: Path, kind: str, seed: int
) -> None:
    library, _world, tracks = source
    trial = run_trial(kind, seed, library, tracks, tmp_path, fakes.settings_changes())
    assert trial.kills >= 1
    print(f"\n{kind} killed {trial.kills}x at {trial.killed_at}: database complete ({trial.seconds:.1f} s)")
