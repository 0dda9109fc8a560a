"""What the worker processes run.

Importing this module costs nothing: the audio stack (NumPy, SciPy, PyAV, Essentia,
libchromaprint, ~140 MB) is loaded inside each worker on its first file, never in the importing
process, whose memory then stays that of a small web service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wkmp_ai.audio.results import FileAnalysis

__all__ = ["analyse_file"]


def analyse_file(path: str, params: Mapping[str, Any], flavor: bool = True, peaks: bool = True) -> FileAnalysis:
    from wkmp_ai.audio.analyze import analyze_file

    return analyze_file(path, params, flavor=flavor, peaks=peaks)
