"""``wkmp-ai analyze FILE...``: analyse files one after another in this process, without identification.

With ``--json`` each file gives one JSON object on its own line (the shape of
:meth:`~wkmp_ai.records.analysis.FileAnalysis.to_json`); a file that cannot be analysed gives
``{"path", ..., "error_code", "error_message"}`` and the others go on. The exit code is 2 when any
file failed, else 0. The parameters come from the root folder's ``wkmp.db`` when it exists
(read-only: this command never writes), else the defaults.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from wkmp_ai.config import Settings
from wkmp_ai.errors import ErrorCode, IngestError, error_label
from wkmp_ai.heap import reuse_freed_memory
from wkmp_ai.records.analysis import FileAnalysis
from wkmp_ai.services.analysis import analyse_here, stored_parameters

__all__ = ["error_line", "run_analyze"]

EXIT_OK = 0
EXIT_SOME_FAILED = 2


def error_line(path: Path, code: ErrorCode, message: str) -> dict[str, Any]:
    return {
        "path": str(path),
        "format": None,
        "codec": None,
        "sample_rate": None,
        "channels": None,
        "duration_s": None,
        "passages": [],
        "warnings": [],
        "error_code": code.value,
        "error_message": message,
    }


def _describe(result: FileAnalysis, out: TextIO) -> None:
    print(
        f"{result.path}: {result.format}/{result.codec}, {result.sample_rate} Hz, {result.channels} ch, "
        f"{result.duration_s:.3f} s, {len(result.passages)} passage(s)",
        file=out,
    )
    for index, p in enumerate(result.passages, 1):
        lead_in = "NULL" if p.lead_in_s is None else f"{p.lead_in_s:.2f}"
        lead_out = "NULL" if p.lead_out_s is None else f"{p.lead_out_s:.2f}"
        fingerprint = (p.fingerprint[:16] + "…") if p.fingerprint else "none"
        print(
            f"  {index:3}  {p.start_s:9.3f} – {p.end_s:9.3f} s  lead-in {lead_in:>5}  lead-out {lead_out:>5}  "
            f"peak RMS {p.peak_rms:.3f}  fingerprint {fingerprint}",
            file=out,
        )
        if p.flavor:
            d = p.flavor["descriptors"]
            print(
                f"       bpm {d.get('bpm')}  key {d.get('key')} {d.get('scale')}  "
                f"loudness {d.get('loudness_integrated_lufs')} LUFS  LRA {d.get('loudness_range_lu')} LU",
                file=out,
            )
    for warning in result.warnings:
        where = "" if warning.passage_index is None else f" (passage {warning.passage_index + 1})"
        print(f"  warning{where}: {warning.code.label} ({warning.code.value}): {warning.message}", file=out)


def run_analyze(settings: Settings, files: list[Path], *, as_json: bool, flavor: bool) -> int:
    reuse_freed_memory()  # this process decodes file after file, as a worker does
    try:
        return _run(settings, files, as_json=as_json, flavor=flavor)
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as Unix tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout again at exit
        return EXIT_OK


def _run(settings: Settings, files: list[Path], *, as_json: bool, flavor: bool) -> int:
    params, warnings = stored_parameters(settings.db_path)
    for warning in warnings:
        print(f"wkmp-ai analyze: {warning}", file=sys.stderr)
    failed = False
    for path in files:
        try:
            result = analyse_here(path, params, flavor=flavor)
        except IngestError as exc:
            failed = True
            line = error_line(path, exc.code, exc.detail)
        except Exception as exc:  # a bug must not cost the other files; report it as this file's failure
            failed = True
            line = error_line(path, ErrorCode.ANALYSIS_FAILED, f"{type(exc).__name__}: {exc}")
        else:
            if not as_json:
                _describe(result, sys.stdout)
                sys.stdout.flush()
                continue
            line = result.to_json()
        if as_json:
            print(json.dumps(line, allow_nan=False), flush=True)
        else:
            code = line["error_code"]
            print(f"{path}: {error_label(code)} ({code}): {line['error_message']}", file=sys.stderr, flush=True)
    return EXIT_SOME_FAILED if failed else EXIT_OK
