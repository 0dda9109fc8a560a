"""Command line: ``wkmp-ai serve | import | scan | analyze | params``.

This module only parses arguments, builds :class:`~wkmp_ai.config.Settings` and hands over to the
function that does the work; each verb's work lives with its domain package.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wkmp_ai import __version__
from wkmp_ai.config import ConfigError, Settings, load_settings, resolve_inside_root
from wkmp_ai.errors import IngestError

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


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
    """Canonicalise a DIR argument and refuse it when it lies outside the root folder."""
    try:
        resolved = resolve_inside_root(settings.root_folder, path.absolute())
    except ValueError as exc:
        if "outside the root" not in str(exc):  # not a path we can use at all (too long, not UTF-8)
            raise SystemExit(f"wkmp-ai: {path}: {exc}") from None
        raise SystemExit(
            f"wkmp-ai: {path} is outside the root folder {settings.root_folder}.\n"
            "Choose a folder inside it, or set the root with --root DIR or WKMP_ROOT."
        ) from None
    if not resolved.is_dir():
        raise SystemExit(f"wkmp-ai: {path} is not a folder")
    return resolved


def _parse_assignment(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"wkmp-ai params: expected KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def _run_params(args: argparse.Namespace, settings: Settings) -> int:
    from wkmp_ai import params as P
    from wkmp_ai.db import open_database
    from wkmp_ai.db.settings import load_import_parameters, save_import_parameters

    db = open_database(settings.db_path)
    try:
        if args.action == "get":
            if args.assignments:
                raise SystemExit("wkmp-ai params get takes no KEY=VALUE arguments")
            with db.read() as conn:
                values, warnings = load_import_parameters(conn)
            for warning in warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(json.dumps(values, indent=2, sort_keys=True))
            return EXIT_OK
        if not args.assignments:
            raise SystemExit("wkmp-ai params set needs at least one KEY=VALUE")
        update = dict(_parse_assignment(a) for a in args.assignments)
        try:
            with db.write() as conn:
                current, _ = load_import_parameters(conn)
                merged = P.merge_update(current, update)
                save_import_parameters(conn, merged)
        except P.ParameterError as exc:
            for message in exc.errors.values():
                print(f"wkmp-ai params: {message}", file=sys.stderr)
            return EXIT_USAGE
        print(json.dumps(merged, indent=2, sort_keys=True))
        return EXIT_OK
    finally:
        db.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            from wkmp_ai.server import serve

            return serve(_settings(args, host=args.host, port=args.port))
        if args.command == "params":
            return _run_params(args, _settings(args))
        if args.command == "scan":
            from wkmp_ai.scan.command import run_scan

            settings = _settings(args)
            return run_scan(settings, _inside_root(settings, args.dir), as_json=args.json)
        if args.command == "import":
            from wkmp_ai.ingest.command import run_import

            settings = _settings(args)
            return run_import(settings, _inside_root(settings, args.dir), as_json=args.json)
        if args.command == "analyze":
            from wkmp_ai.audio.command import run_analyze

            return run_analyze(_settings(args), args.files, as_json=args.json, flavor=not args.no_flavor)
    except ConfigError as exc:
        print(f"wkmp-ai: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except IngestError as exc:  # the database cannot be opened or written (disk full, corrupt, read-only)
        if getattr(args, "json", False) and args.command in {"import", "scan"}:
            print(json.dumps({"state": "FAILED", "error": {"code": exc.code.value, "message": exc.detail}}))
        print(f"wkmp-ai: {exc.code.value}: {exc.detail}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    raise AssertionError(f"unhandled command {args.command}")
