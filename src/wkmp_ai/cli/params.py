"""``wkmp-ai params [get | set KEY=VALUE ...]``: the import parameters stored in ``wkmp.db``."""

from __future__ import annotations

import json
import sys
from typing import Any

from wkmp_ai.config import Settings
from wkmp_ai.db import open_database
from wkmp_ai.params import ParameterError
from wkmp_ai.services.parameters import read_parameters, update_parameters

__all__ = ["run_params"]

EXIT_OK = 0
EXIT_USAGE = 2


def _parse_assignment(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"wkmp-ai params: expected KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def run_params(settings: Settings, action: str, assignments: list[str]) -> int:
    if action == "get" and assignments:
        raise SystemExit("wkmp-ai params get takes no KEY=VALUE arguments")
    if action == "set" and not assignments:
        raise SystemExit("wkmp-ai params set needs at least one KEY=VALUE")
    db = open_database(settings.db_path)
    try:
        if action == "get":
            values, warnings = read_parameters(db)
            for warning in warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(json.dumps(values, indent=2, sort_keys=True))
            return EXIT_OK
        try:
            merged = update_parameters(db, dict(_parse_assignment(a) for a in assignments))
        except ParameterError as exc:
            for message in exc.errors.values():
                print(f"wkmp-ai params: {message}", file=sys.stderr)
            return EXIT_USAGE
        print(json.dumps(merged, indent=2, sort_keys=True))
        return EXIT_OK
    finally:
        db.close()
