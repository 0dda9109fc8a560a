"""``wkmp-ai scan``: discovery only (filled in by the discovery issue)."""

from __future__ import annotations

import sys
from pathlib import Path

from wkmp_ai.config import Settings


def run_scan(settings: Settings, directory: Path, *, as_json: bool) -> int:
    print("wkmp-ai scan: discovery is not implemented yet", file=sys.stderr)
    return 1
