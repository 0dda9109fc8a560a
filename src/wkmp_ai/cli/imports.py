"""``wkmp-ai import DIR``: the same session code as the service, with a terminal progress bar.

The bar is one more view of the session's events. SIGTERM and Ctrl-C cancel the session at the
next file boundary (nothing half-written) and the command exits non-zero, within 5 s of the signal
whatever a thread is doing (:mod:`wkmp_ai.shutdown`). ``--json`` prints the
final summary as one JSON object on stdout; the progress bar goes to stderr either way, and only
when stderr is a terminal.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wkmp_ai.config import Settings
from wkmp_ai.events import EventType
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
        await _show_progress(session, console, show_bar=console.is_terminal)
        await service.sessions.wait(session.id)
    finally:
        await service.close()
        db.close()
    summary = {
        "session_id": session.id,
        "root_folder": str(directory),
        **session.summary(),
        "errors": [e.as_dict() for e in session.errors],
    }
    if as_json:
        print(json.dumps(summary, sort_keys=True))
    else:
        _print_summary(console, summary)
    return 0 if session.state is State.COMPLETED else 1


async def _show_progress(session: ImportSession, console: Console, *, show_bar: bool) -> None:
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TextColumn("ETA {task.fields[eta]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=True, disable=not show_bar) as bar:
        task = bar.add_task("Scanning", total=None, rate="", eta="--")
        async for event in session.events.follow(0, wait_s=1.0):
            if event is None:
                continue
            if event.type is EventType.STATE_CHANGED:
                bar.update(task, description=str(event.data["new_state"]).capitalize())
            elif event.type is EventType.PROGRESS:
                data = event.data
                eta = data.get("estimated_remaining_seconds")
                bar.update(
                    task,
                    total=data["total"] or None,
                    completed=data["current"],
                    rate=f"{data['files_per_second']:.2f} files/s",
                    eta="--" if eta is None else f"{int(eta) // 60}m{int(eta) % 60:02d}s",
                    description=_describe(data),
                )
            elif event.type is EventType.ERROR and event.data["severity"] != "warning":
                bar.console.print(
                    f"[red]{event.data['error_code']}[/] {event.data['file_path']}: {event.data['error_message']}"
                )


def _describe(progress: dict[str, Any]) -> str:
    files = progress.get("current_files") or []
    shown = ", ".join(Path(f).name for f in files[:2]) + (" …" if len(files) > 2 else "")
    return f"{progress.get('state', 'PROCESSING').capitalize()} {shown}".rstrip()


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
        table.add_row(code, str(count))
    Console(file=sys.stdout).print(table)
