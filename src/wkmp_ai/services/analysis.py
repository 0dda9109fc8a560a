"""Analysis outside an import: a span of one file (``POST /analyze/amplitude``) in the import's worker
pool, and whole files in this process (``wkmp-ai analyze``).

The decode and DSP run in a worker process like an import's (:meth:`ImportService.run_task
<wkmp_ai.ingest.pipeline.ImportService.run_task>`), never in the server's own process: a hostile
file can crash or exhaust a worker, not the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wkmp_ai import params as P
from wkmp_ai.db.connection import Database, connect
from wkmp_ai.db.settings import load_import_parameters
from wkmp_ai.records.analysis import AmplitudeAnalysis, FileAnalysis
from wkmp_ai.services.folders import resolve_audio_file
from wkmp_ai.services.parameters import parameters_with

if TYPE_CHECKING:
    from wkmp_ai.ingest.pipeline import ImportService

__all__ = ["amplitude_of_span", "analyse_here", "stored_parameters"]


async def amplitude_of_span(
    imports: ImportService,
    db: Database,
    root: Path,
    file_path: str,
    start_s: float,
    end_s: float | None,
    overrides: Mapping[str, Any] | None,
) -> AmplitudeAnalysis:
    """Lead-in, lead-out and RMS profile of seconds [start_s, end_s) of a file inside the root.

    Raises :class:`~wkmp_ai.errors.Refused` for a file outside the root or missing, parameters out
    of range or an empty range; :class:`~wkmp_ai.errors.IngestError` when the file cannot be decoded.
    """
    from wkmp_ai.ingest.pipeline import analysis_timeout
    from wkmp_ai.ingest.tasks import analyse_span

    path = resolve_audio_file(root, file_path)
    params = parameters_with(db, overrides)
    result: AmplitudeAnalysis = await imports.run_task(
        analyse_span, str(path), start_s, end_s, params, timeout=analysis_timeout(None)
    )
    return result


def stored_parameters(db_path: Path) -> tuple[dict[str, Any], list[str]]:
    """The stored import parameters, read-only (nothing is created), or the defaults when there is
    no database yet; and what was wrong with them."""
    if not db_path.is_file():
        return P.defaults(), []
    conn = connect(db_path, readonly=True)
    try:
        return load_import_parameters(conn)
    finally:
        conn.close()


def analyse_here(path: Path, params: Mapping[str, Any], *, flavor: bool) -> FileAnalysis:
    """Analyse one file in this process (``wkmp-ai analyze``: one file after another, no pool).

    No waveform peaks: they are for the segment editor, and the command does not print them.
    """
    from wkmp_ai.ingest.tasks import analyse_file  # the audio stack loads on first use only

    return analyse_file(str(path), params, flavor=flavor, peaks=False)
