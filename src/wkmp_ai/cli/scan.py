"""``wkmp-ai scan DIR``: discover the audio files under DIR and record them in ``wkmp.db``.

With ``--json``, stdout carries one object per audio file, ``{"path", "format", "size"}`` (path
relative to the root folder), and nothing else. The summary and warnings go to stderr.
Exit 0 when the scan ran (warnings included), 1 when it failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from wkmp_ai.config import Settings
from wkmp_ai.db import open_database
from wkmp_ai.errors import IngestError
from wkmp_ai.ingest.library import ScanProgress, ScanReport, sync_library

__all__ = ["format_summary", "run_scan"]


def format_summary(report: ScanReport) -> str:
    parts = [
        f"{len(report.files)} audio files:",
        f"{report.added} added,",
        f"{report.updated} updated,",
        f"{report.moved} moved,",
        f"{report.removed} removed,",
        f"{report.unchanged} unchanged",
    ]
    if report.kept_unreadable:
        parts.append(f"({report.kept_unreadable} kept: unreadable)")
    parts.append(f"in {report.seconds:.2f} s")
    return " ".join(parts)


def _progress_printer(stream: object) -> object:
    def show(progress: ScanProgress) -> None:
        if progress.phase == "reading" and progress.total:
            print(f"\rreading {progress.done}/{progress.total}", end="", file=sys.stderr, flush=True)

    return show if getattr(stream, "isatty", lambda: False)() else None


def run_scan(settings: Settings, directory: Path, *, as_json: bool) -> int:
    db = open_database(settings.db_path)
    try:
        report = sync_library(db, directory, settings.root_folder, on_progress=_progress_printer(sys.stderr))  # type: ignore[arg-type]
    except IngestError as exc:
        print(f"wkmp-ai scan: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    if getattr(sys.stderr, "isatty", lambda: False)():
        print("\r", end="", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning.code}: {warning.path}: {warning.message}", file=sys.stderr)
    if as_json:
        out = sys.stdout
        for f in report.files:
            out.write(json.dumps({"path": f.rel_path, "format": f.format, "size": f.size}, ensure_ascii=False) + "\n")
    else:
        for f in report.files:
            print(f"{f.status:9} {f.format:5} {f.rel_path}")
    print(format_summary(report), file=sys.stderr)
    return 0
