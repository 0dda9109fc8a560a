"""IIR filtering in place as second-order sections, without importing ``scipy.signal``.

The A-weighting (:mod:`wkmp_ai.audio.envelope`) and the K-weighting (:mod:`wkmp_ai.audio.flavor`)
run SciPy's compiled ``sosfilt`` kernel. Importing ``scipy.signal`` to reach it costs ~1.5 s of CPU
per process (it imports ``scipy.stats``, ``optimize``, ``interpolate`` and formats their docstrings)
— more than analysing five 3-minute files — and ``wkmp-ai analyze`` pays it on every run. The
kernel is a self-contained extension module, so it is loaded on its own from SciPy's folder
(~10 ms). If that ever fails (a SciPy that moved it), the public ``scipy.signal.sosfilt`` does the
same work, only slower to import.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["sosfilt_inplace"]

_MODULE = "scipy.signal._sosfilt"
_kernel: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None
_lock = threading.Lock()


def _load_kernel() -> Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None:
    """SciPy's ``_sosfilt(sos, x, zi)`` (filters ``x`` and updates ``zi`` in place), or None."""
    spec = importlib.util.find_spec("scipy")  # finds the package without importing it
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "signal"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"_sosfilt{suffix}"
        if not path.is_file():
            continue
        loader = importlib.machinery.ExtensionFileLoader(_MODULE, str(path))
        module_spec = importlib.util.spec_from_file_location(_MODULE, str(path), loader=loader)
        if module_spec is None:
            return None
        module = importlib.util.module_from_spec(module_spec)
        loader.exec_module(module)
        return getattr(module, "_sosfilt", None)
    return None


def _public(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
    from scipy import signal

    y, zf = signal.sosfilt(sos, x, axis=1, zi=np.moveaxis(zi, 0, 1))
    x[...] = y
    zi[...] = np.moveaxis(zf, 1, 0)


def _get() -> Callable[[np.ndarray, np.ndarray, np.ndarray], None]:
    global _kernel
    if _kernel is None:
        with _lock:
            if _kernel is None:
                try:
                    _kernel = _load_kernel() or _public
                except (ImportError, OSError):
                    _kernel = _public
    return _kernel


def sosfilt_inplace(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
    """Filter each row of ``x`` through the sections ``sos``, in place, carrying the state ``zi``.

    ``sos``: (sections, 6) as SciPy lays them out; ``x``: (signals, samples), C-contiguous;
    ``zi``: (signals, sections, 2), updated to the state after the last sample. All three of one
    dtype (float32 or float64).
    """
    _get()(sos, x, zi)
