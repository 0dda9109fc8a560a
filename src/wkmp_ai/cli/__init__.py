"""Command line: ``wkmp-ai serve | import | scan | analyze | params``.

This package only parses arguments, builds :class:`~wkmp_ai.config.Settings`, calls the service
functions (:mod:`wkmp_ai.services`) and renders what they return: one module a verb
(``analyze``, ``scan``, ``imports``, ``params``; ``serve`` is :mod:`wkmp_ai.server`). Errors of ours
become a message and an exit code in one place, :func:`_failed`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from wkmp_ai import __version__
from wkmp_ai.config import OutsideRoot, PathRefused, Settings, load_settings
from wkmp_ai.errors import Refused, WkmpError, exit_code
from wkmp_ai.services.folders import resolve_import_folder

__all__ = ["build_parser", "main", "run"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wkmp-ai",
        description="WKMP Audio Ingest: import a music folder into the shared WKMP database (wkmp.db).",
    )
    parser.add_argument("--version", action="version", version=f"wkmp-ai {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    root_help = "root folder holding wkmp.db (default: $WKMP_ROOT, the config file, then ~/Music)"

    serve = sub.add_parser(
        "serve",
        help="run the HTTP service (web UI and JSON API)",
        description="Run the HTTP service: import wizard, progress, JSON API.",
    )
    serve.add_argument("--root", type=Path, help=root_help)
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 5723)")

    imp = sub.add_parser(
        "import",
        help="import a folder headlessly, with a progress bar",
        description="Import DIR (inside the root folder) into wkmp.db. Exit 0 when the "
        "session completes (skipped files included), 1 when it fails or is cancelled.",
    )
    imp.add_argument("dir", type=Path, metavar="DIR", help="folder to import; must lie inside the root folder")
    imp.add_argument("--root", type=Path, help=root_help)
    imp.add_argument("--json", action="store_true", help="print the final summary as one JSON object")

    scan = sub.add_parser(
        "scan",
        help="discover audio files only (no analysis, no identification)",
        description="Discover the audio files under DIR and record them in wkmp.db.",
    )
    scan.add_argument("dir", type=Path, metavar="DIR", help="folder to scan; must lie inside the root folder")
    scan.add_argument("--root", type=Path, help=root_help)
    scan.add_argument("--json", action="store_true", help='print one JSON object per file: {"path", "format", "size"}')

    analyze = sub.add_parser(
        "analyze",
        help="analyse files without identification or database writes",
        description="Decode each FILE once and print its passages, lead-in/lead-out, "
        "fingerprint and flavor. Exit 2 when any file cannot be decoded.",
    )
    analyze.add_argument("files", type=Path, nargs="+", metavar="FILE")
    analyze.add_argument("--json", action="store_true", help="print one JSON object per file, one per line")
    analyze.add_argument("--no-flavor", action="store_true", help="skip the musical flavor stage")
    analyze.add_argument("--root", type=Path, help="root folder whose wkmp.db holds the parameters to use")

    params = sub.add_parser(
        "params",
        help="show or change the import parameters stored in wkmp.db",
        description="Show (get) or change (set KEY=VALUE ...) the import parameters.",
    )
    params.add_argument("action", nargs="?", choices=["get", "set"], default="get")
    params.add_argument(
        "assignments",
        nargs="*",
        metavar="KEY=VALUE",
        help="values are JSON (numbers, true/false); bare words are strings",
    )
    params.add_argument("--root", type=Path, help=root_help)
    return parser


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    return load_settings({"root_folder": getattr(args, "root", None), **extra})


def _inside_root(settings: Settings, path: Path) -> Path:
    """Canonicalise a DIR argument and refuse it (exit 1) unless it is a readable folder inside the root."""
    try:
        return resolve_import_folder(settings.root_folder, path.absolute())
    except OutsideRoot:
        raise SystemExit(
            f"wkmp-ai: {path} is outside the root folder {settings.root_folder}.\n"
            "Choose a folder inside it, or set the root with --root DIR or WKMP_ROOT."
        ) from None
    except PathRefused as exc:  # not a path we can use at all (too long, not UTF-8)
        raise SystemExit(f"wkmp-ai: {path}: {exc.detail}") from None
    except Refused:
        raise SystemExit(f"wkmp-ai: {path} is not a folder") from None


def _failed(args: argparse.Namespace, exc: WkmpError) -> int:
    """The one place where an error of ours becomes a message and an exit code."""
    if isinstance(exc, Refused):
        print(f"wkmp-ai: {exc.detail}", file=sys.stderr)
        return exit_code(exc)
    # the database cannot be opened or written (disk full, corrupt, read-only), or a bug
    if getattr(args, "json", False) and args.command in {"import", "scan"}:
        print(json.dumps({"state": "FAILED", "error": {"code": exc.code.value, "message": exc.detail}}))
    print(f"wkmp-ai: {exc.code.value}: {exc.detail}", file=sys.stderr)
    return exit_code(exc)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            from wkmp_ai.server import serve

            return serve(_settings(args, host=args.host, port=args.port))
        if args.command == "params":
            from wkmp_ai.cli.params import run_params

            return run_params(_settings(args), args.action, args.assignments)
        if args.command == "scan":
            from wkmp_ai.cli.scan import run_scan

            settings = _settings(args)
            return run_scan(settings, _inside_root(settings, args.dir), as_json=args.json)
        if args.command == "import":
            from wkmp_ai.ingest.tasks import WORKER_PRELOAD
            from wkmp_ai.ingest.workers import start_forkserver

            settings = _settings(args)
            directory = _inside_root(settings, args.dir)
            start_forkserver(WORKER_PRELOAD)  # the workers' audio stack loads while this process loads its own
            from wkmp_ai.cli.imports import run_import

            return run_import(settings, directory, as_json=args.json)
        if args.command == "analyze":
            from wkmp_ai.cli.analyze import run_analyze

            return run_analyze(_settings(args), args.files, as_json=args.json, flavor=not args.no_flavor)
    except WkmpError as exc:
        return _failed(args, exc)
    except KeyboardInterrupt:
        return 130
    raise AssertionError(f"unhandled command {args.command}")


def run() -> NoReturn:
    """The ``wkmp-ai`` command: :func:`main`, then leave at once.

    By the time ``main`` returns, the command has closed the database, its workers and its HTTP
    clients. What is left is the interpreter tearing down the modules and objects it loaded (the
    audio stack for ``analyze``; httpx, rich and Pillow for ``import``), which took 60–120 ms of
    every command's wall time and does nothing for anyone, so the process ends here after the log
    and the output are flushed (docs/design.md, *Layers*). An exception out of ``main`` is a bug:
    it takes Python's usual way out, with its traceback."""
    code = main()
    logging.shutdown()
    with contextlib.suppress(OSError):  # a reader that went away (``| head``) has nothing to lose
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
