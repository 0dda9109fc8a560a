"""``wkmp-ai import DIR``: the same session code as the service, with a terminal progress bar.

The bar is one more view of the session's events: the overall percentage, the phase (finding files,
analysing, identifying) and its counts. Log records go through the bar's own console (rich's
``RichHandler``), so warnings scroll above a bar that stays whole. The run ends with the summary and
the files that need attention (not identified, no match, failed, skipped), each with its reason.
SIGTERM and Ctrl-C cancel the session at the
next file boundary (nothing half-written) and the command exits non-zero, within 5 s of the signal
whatever a thread is doing (:mod:`wkmp_ai.shutdown`). ``--json`` prints the
final summary as one JSON object on stdout; the progress bar goes to stderr either way, and only
when stderr is a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from wkmp_ai.config import Settings
from wkmp_ai.errors import error_label
from wkmp_ai.events import EventType
from wkmp_ai.ingest.history import attention
from wkmp_ai.ingest.session import ImportSession, State
from wkmp_ai.shutdown import ExitDeadline

__all__ = ["run_import"]


def run_import(settings: Settings, directory: Path, *, as_json: bool) -> int:
    return asyncio.run(_run(settings, directory, as_json=as_json))


async def _run(settings: Settings, directory: Path, *, as_json: bool) -> int:
    from wkmp_ai.db import open_database
    from wkmp_ai.ingest.pipeline import ImportService
    from wkmp_ai.services.imports import start_import
    from wkmp_ai.services.parameters import read_parameters

    console = Console(stderr=True)
    db = open_database(settings.db_path)
    service = ImportService(settings, db)
    try:
        _parameters, warnings = read_parameters(db)
        for warning in warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        session = start_import(service, str(directory))
        deadline = ExitDeadline("the import")

        def stop() -> None:
            session.request_cancel()
            deadline.arm()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        with _logging_through(console):
            await _show_progress(session, console, show_bar=console.is_terminal)
            await service.sessions.wait(session.id)
        with db.read() as conn:
            outcome = attention(conn, session)
    finally:
        await service.close()
        db.close()
    summary = {
        "session_id": session.id,
        "root_folder": str(directory),
        **session.summary(),
        "errors": [e.as_dict() for e in session.errors],
        "attention": outcome,
    }
    if as_json:
        print(json.dumps(summary, sort_keys=True))
    else:
        _print_summary(console, summary)
        _print_attention(outcome)
    return 0 if session.state is State.COMPLETED else 1


@contextlib.contextmanager
def _logging_through(console: Console) -> Any:
    """Route log records through ``console`` while the bar shows, so each prints above the bar (without a
    terminal there is no bar, and the records stay plain lines)."""
    if not console.is_terminal:
        yield
        return
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False)
    handler.setLevel(min((h.level for h in saved), default=logging.WARNING))
    root.handlers = [handler]
    try:
        yield
    finally:
        root.handlers = saved


async def _show_progress(session: ImportSession, console: Console, *, show_bar: bool) -> None:
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=True, disable=not show_bar) as bar:
        task = bar.add_task("Finding files", total=100, detail="")
        async for event in session.events.follow(0, wait_s=1.0):
            if event is not None and event.type is EventType.PROGRESS:
                description, detail = _describe(event.data)
                bar.update(task, completed=event.data["overall_percentage"], description=description, detail=detail)


PHASE_NAMES = {
    "scanning": "Finding files",
    "analysis": "Analysing",
    "identification": "Identifying",
    "finished": "Done",
}


def _describe(progress: dict[str, Any]) -> tuple[str, str]:
    """The bar's label (the phase) and its counts."""
    phases = progress["phases"]
    scan, analysis, ident = phases["scanning"], phases["analysis"], phases["identification"]
    if progress["phase"] == "scanning":
        if scan["step"] == "discovering":
            return PHASE_NAMES["scanning"], f"looking for audio files: {scan['files_found']} found"
        found, read, to_read = scan["files_found"], scan["files_read"], scan["files_to_read"]
        return PHASE_NAMES["scanning"], f"{found} found, read {read}/{to_read}"
    eta = analysis["eta_seconds"]
    parts = [f"{analysis['done']}/{analysis['total']} files", f"{analysis['files_per_second']:.2f} files/s"]
    if scan["step"] != "done" and progress["phase"] != "finished":  # the scan goes on beside the first folders
        parts.insert(1, f"still reading {scan['files_read']}/{scan['files_to_read']}")
    if progress["phase"] == "analysis" and eta is not None:
        parts.append(f"ETA {int(eta) // 60}m{int(eta) % 60:02d}s")
    parts.append(f"{ident['albums_done']}/{ident['albums_total']} albums")
    if ident["requests_waiting"]:
        parts.append(f"{ident['requests_waiting']} requests waiting for rate limits")
    files = progress.get("current_files") or []
    if files and progress["phase"] == "analysis":
        parts.append(", ".join(escape(Path(f).name) for f in files[:2]) + (" …" if len(files) > 2 else ""))
    return PHASE_NAMES.get(progress["phase"], progress["phase"]), " · ".join(parts)


def _print_summary(console: Console, summary: dict[str, Any]) -> None:
    table = Table(title=f"Import {summary['state']}", show_header=False)
    for key in (
        "files_total",
        "files_processed",
        "files_with_warnings",
        "files_failed",
        "files_unchanged",
        "files_identified",
        "passages_created",
        "duration_seconds",
    ):
        table.add_row(key.replace("_", " "), str(summary[key]))
    for code, count in summary["error_summary"].items():
        table.add_row(f"{error_label(code)} ({code})", str(count))
    Console(file=sys.stdout).print(table)


ATTENTION = (
    ("partial", "partly identified", "some passages have no match"),
    ("pending", "not identified yet", "the services could not be asked (offline, no key); the next import tries"),
    ("no_match", "no match found", "nothing in MusicBrainz fits"),
    ("failed", "failed to analyse", None),
    ("skipped", "skipped", None),
)
SHOWN = 50  # files listed per kind; --json lists them all


def _print_attention(outcome: dict[str, Any]) -> None:
    out = Console(file=sys.stdout, highlight=False)
    lists = [(key, label, why) for key, label, why in ATTENTION if outcome[key]["count"]]
    if not lists:
        return
    out.print("\n[bold]Files that need attention[/]")
    for key, label, why in lists:
        bucket = outcome[key]
        out.print(f"\n[bold]{label}[/] ({bucket['count']})" + (f": {why}" if why else ""))
        for f in bucket["files"][:SHOWN]:
            reason = f" — {error_label(f['code'])}: {f['reason']}" if f.get("reason") else ""
            out.print(f"  {escape(f['path'])}{escape(reason)}")
        if bucket["count"] > SHOWN:
            out.print(f"  … and {bucket['count'] - SHOWN} more (wkmp-ai import --json lists them all)")
