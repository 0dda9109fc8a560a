"""Our C kernels: one shared library built from ``native/*.c`` by ``scripts/install.sh``, loaded once with ctypes.

Each kernel has a NumPy or SciPy counterpart with the same results bit for bit (the tests compare
them), used when the library is missing (no compiler at install time) or refuses its arguments:

- ``biquads_f32``, ``biquads_power_f32``, ``energy_slope_f32``, ``weightings_f32``, ``envelope_f32``
  (``native/biquads.c``): the IIR filters and their per-hop sums, used by :mod:`wkmp_ai.audio.iir`;
- ``spectral_peaks_f64`` (``native/peaks.c``): the flavor's ``SpectralPeaks``, used by
  :mod:`wkmp_ai.audio.spectral`.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LIBRARY", "Kernels", "kernels"]

log = logging.getLogger(__name__)

LIBRARY = Path(__file__).with_name("native") / "_kernels.so"

_P, _N, _I, _F, _D = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_float, ctypes.c_double
_SIGNATURES = {
    "biquads_f32": [_P, _I, _P, _N, _N, _N, _P],
    "biquads_power_f32": [_P, _I, _P, _N, _N, _N, _P, _P, _N, _P],
    "energy_slope_f32": [_P, _N, _F, _N, _P, _P],
    "weightings_f32": [_P, _N, _N, _N, _P, _F, _P, _I, _P, _P, _I, _P, _P, _N, _P, _P, _P, _P],
    "envelope_f32": [_P, _N, _N, _N, _P, _I, _P, _N, _P, _P, _P, _P],
    "spectral_peaks_f64": [_P, _N, _N, _N, _N, _D, _D, _D, _N, _P, _P],
}


@dataclass(frozen=True)
class Kernels:
    """The library's functions; each returns 0, or -1 for arguments it does not take."""

    biquads: Callable[..., int]
    biquads_power: Callable[..., int]
    energy_slope: Callable[..., int]
    weightings: Callable[..., int]
    envelope: Callable[..., int]
    spectral_peaks: Callable[..., int]


@functools.cache
def kernels() -> Kernels | None:
    """The kernels, or None when the library is not built or does not load (a warning says so once)."""
    if not LIBRARY.is_file():
        return None
    try:
        library = ctypes.CDLL(str(LIBRARY))
        functions = [getattr(library, name) for name in _SIGNATURES]
    except (OSError, AttributeError) as exc:
        log.warning("our C kernels cannot be loaded (%s); the analysis uses NumPy and SciPy instead", exc)
        return None
    for function, argtypes in zip(functions, _SIGNATURES.values(), strict=True):
        function.argtypes = argtypes
        function.restype = ctypes.c_int
    return Kernels(*functions)
