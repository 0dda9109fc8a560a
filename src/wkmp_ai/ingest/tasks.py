"""What the worker processes run.

Importing this module costs nothing: the audio stack (NumPy, SciPy, PyAV, Essentia,
libchromaprint) is loaded by the workers' forkserver (:mod:`wkmp_ai.ingest.preload`) and inherited
by every worker forked from it, never in the importing process, whose memory then stays that of a
small web service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wkmp_ai.errors import Refused

if TYPE_CHECKING:
    from wkmp_ai.records.analysis import AmplitudeAnalysis, FileAnalysis

__all__ = ["WORKER_PRELOAD", "analyse_file", "analyse_span"]

# What the import's workers' forkserver imports, so that every worker starts with the audio stack loaded.
WORKER_PRELOAD = ("wkmp_ai.ingest.preload",)


def analyse_file(path: str, params: Mapping[str, Any], flavor: bool = True, peaks: bool = True) -> FileAnalysis:
    from wkmp_ai.audio.analyze import analyze_file
    from wkmp_ai.scan.findindex import find_track_index

    return analyze_file(path, params, flavor=flavor, find_index=find_track_index, peaks=peaks)


def analyse_span(path: str, start_s: float, end_s: float | None, params: Mapping[str, Any]) -> AmplitudeAnalysis:
    from wkmp_ai.audio.analyze import analyze_amplitude

    try:
        return analyze_amplitude(path, start_s, end_s, params)
    except Refused:
        raise
    except ValueError as exc:  # an empty or negative range: the request's fault
        raise Refused(str(exc)) from None
