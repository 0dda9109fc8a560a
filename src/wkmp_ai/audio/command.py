"""``wkmp-ai analyze``: per-file analysis without identification (filled in by the audio issue)."""

from __future__ import annotations

import sys
from pathlib import Path

from wkmp_ai.config import Settings


def run_analyze(settings: Settings, files: list[Path], *, as_json: bool, flavor: bool) -> int:
    print("wkmp-ai analyze: analysis is not implemented yet", file=sys.stderr)
    return 1
