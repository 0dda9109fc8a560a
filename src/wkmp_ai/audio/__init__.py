"""Audio analysis: one streaming decode per file feeding fingerprint, segmentation, amplitude and flavor.

The import session calls :func:`analyze_file` in worker processes and stores what it returns; the
HTTP API calls :func:`analyze_amplitude`. How each part works, and why, is in ``docs/audio.md``.

Modules: ``decode`` (PyAV, blocks; ``damage``: what counts as damage; ``fpstream``/``swresample``:
the 11025 Hz stream) → ``envelope`` (10 ms hops, A-weighting) → ``silence`` (segmentation) ·
``fingerprint``/``chromaprint`` (per-passage Chromaprint) · ``amplitude`` (lead-in/lead-out) ·
``flavor``/``loudness`` (Essentia, EBU R128) → :mod:`wkmp_ai.records.analysis`; ``analyze`` wires
them to one decode.

The two functions load on first use: the importing process only needs the records (plain data),
and should not carry NumPy, SciPy and PyAV (~100 MB) for work its workers do.
"""

import os
from typing import Any

# One analysis per core (the import runs one worker per core): OpenBLAS's own threads would only
# spin beside it, and their spinning cost 5-40 % more CPU time (docs/audio.md, "Performance").
# It must be set before NumPy loads OpenBLAS; a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__all__ = ["analyze_amplitude", "analyze_file"]


def __getattr__(name: str) -> Any:
    if name in ("analyze_amplitude", "analyze_file"):
        from wkmp_ai.audio import analyze

        return getattr(analyze, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
