"""``wkmp-ai import``: a headless import session (filled in by the import-sessions issue)."""

from __future__ import annotations

import sys
from pathlib import Path

from wkmp_ai.config import Settings


def run_import(settings: Settings, directory: Path, *, as_json: bool) -> int:
    print("wkmp-ai import: import sessions are not implemented yet", file=sys.stderr)
    return 1
