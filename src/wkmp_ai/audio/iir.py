"""IIR filtering as second-order sections (and the per-hop sums made in the same pass), without ``scipy.signal``.

The A-weighting (:mod:`wkmp_ai.audio.envelope`) and the K-weighting (:mod:`wkmp_ai.audio.flavor`)
are cascades of biquads run over every sample of a file, so their kernel matters (docs/audio.md,
*Performance and memory*). In order of preference:

1. our own C kernel (``native/biquads.c``, loaded by :mod:`wkmp_ai.audio.kernels`):
   SciPy's arithmetic bit for bit, 2–2.6× as fast — the filter state stays in registers and the
   two channels of a stereo block are filtered side by side. float32, 1–4 sections.
2. SciPy's compiled ``sosfilt`` kernel, loaded on its own from SciPy's folder (~10 ms). Importing
   ``scipy.signal`` to reach it costs ~1.5 s of CPU per process (it imports ``scipy.stats``,
   ``optimize``, ``interpolate`` and formats their docstrings) — more than analysing five
   3-minute files — and ``wkmp-ai analyze`` pays it on every run.
3. the public ``scipy.signal.sosfilt``, if SciPy ever moves its kernel.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from wkmp_ai.audio.kernels import kernels

__all__ = [
    "a_weighted_envelope",
    "energy_and_slope",
    "filtered_power",
    "native_available",
    "sosfilt_inplace",
    "weightings",
]

Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray], None]

_MAX_NATIVE_SECTIONS = 4
_MODULE = "scipy.signal._sosfilt"
_kernel: Kernel | None = None
_lock = threading.Lock()


def native_available() -> bool:
    """Whether the C kernels are built and load (the tests insist on it where a compiler exists)."""
    return kernels() is not None


def _load_kernel() -> Kernel | None:
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


def _get() -> Kernel:
    """SciPy's kernel, loaded on first use (our C kernels are tried before it)."""
    global _kernel
    if _kernel is None:
        with _lock:
            if _kernel is None:
                try:
                    _kernel = _load_kernel() or _public
                except (ImportError, OSError):
                    _kernel = _public
    return _kernel


def _sections_fit(sos: np.ndarray, zi: np.ndarray, rows: int) -> bool:
    """Whether our kernels take these sections and this state for ``rows`` rows (float32, 1-4 sections)."""
    return (
        sos.dtype == zi.dtype == np.float32
        and 1 <= sos.shape[0] <= _MAX_NATIVE_SECTIONS
        and sos.flags.c_contiguous
        and zi.flags.c_contiguous
        and zi.shape == (rows, sos.shape[0], 2)
    )


def _fits_native(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> bool:
    return x.dtype == np.float32 and x.flags.c_contiguous and _sections_fit(sos, zi, x.shape[0])


def sosfilt_inplace(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
    """Filter each row of ``x`` through the sections ``sos``, in place, carrying the state ``zi``.

    ``sos``: (sections, 6) as SciPy lays them out; ``x``: (signals, samples), C-contiguous;
    ``zi``: (signals, sections, 2), updated to the state after the last sample. All three of one
    dtype (float32 or float64).
    """
    native = kernels()
    if native is not None and _fits_native(sos, x, zi):
        rows, n = x.shape
        if native.biquads(sos.ctypes.data, sos.shape[0], x.ctypes.data, rows, n, n, zi.ctypes.data) == 0:
            return
    _get()(sos, x, zi)


def filtered_power(sos: np.ndarray, x: np.ndarray, zi: np.ndarray, weights: np.ndarray, hop: int) -> np.ndarray:
    """Per hop of ``hop`` samples, ``sum over rows r of weights[r] * sum of y_r**2``, y being ``x`` filtered.

    ``x`` is left as it is (the filtered samples are never stored: one pass, no copy); ``zi``
    carries the state as in :func:`sosfilt_inplace`. The last hop may be partial. float64 sums,
    ``ceil(samples / hop)`` of them.
    """
    rows, n = x.shape
    out = np.zeros(-(-n // hop), np.float64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    native = kernels()
    if native is not None and n and _fits_native(sos, x, zi) and len(weights) == rows:
        code = native.biquads_power(
            sos.ctypes.data,
            sos.shape[0],
            x.ctypes.data,
            rows,
            n,
            n,
            zi.ctypes.data,
            weights.ctypes.data,
            hop,
            out.ctypes.data,
        )
        if code == 0:
            return out
    y = np.array(x, dtype=x.dtype, order="C")
    sosfilt_inplace(sos, y, zi)
    for row, weight in zip(y, weights, strict=True):
        if weight:
            out += weight * _energy_per_hop(row, hop)
    return out


def _energy_per_hop(values: np.ndarray, hop: int) -> np.ndarray:
    """Sum of squares per hop in float64, the last hop partial (the NumPy side of the C sums)."""
    values = np.asarray(values, dtype=np.float64)
    whole = len(values) // hop * hop
    hops = values[:whole].reshape(-1, hop)
    sums = np.einsum("ij,ij->i", hops, hops)
    if whole < len(values):
        sums = np.append(sums, np.dot(values[whole:], values[whole:]))
    return sums


def energy_and_slope(mono: np.ndarray, prev: float, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Per hop of ``hop`` samples: the energy of ``mono`` and of its first difference (float64).

    ``prev`` is the sample before ``mono[0]`` (0.0 at the start of a file). The last hop may be
    partial. One pass in C; NumPy (a difference array, two row-wise dot products) without it.
    """
    n = len(mono)
    count = -(-n // hop)
    energy, slope = np.zeros(count), np.zeros(count)
    native = kernels()
    if (
        native is not None
        and mono.dtype == np.float32
        and mono.flags.c_contiguous
        and native.energy_slope(mono.ctypes.data, n, prev, hop, energy.ctypes.data, slope.ctypes.data) == 0
    ):
        return energy, slope
    diff = np.empty(n, np.float32)
    if n:
        diff[0] = np.float32(mono[0]) - np.float32(prev)
        np.subtract(mono[1:], mono[:-1], out=diff[1:])
    return _energy_per_hop(mono, hop), _energy_per_hop(diff, hop)


def a_weighted_envelope(
    sos: np.ndarray, zi: np.ndarray, x: np.ndarray, hop: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """For a block of one or two channels (whole hops), in one pass of our C kernel: the A-weighted
    power per hop of the channels' sum (``filtered_power(sos, mix, zi, [1], hop)`` bit for bit), each
    channel's energy per hop (float64, ``(rows, hops)``), the channels' sum itself (float32, as
    ``envelope.channel_sum``) and the largest absolute sample (NaN when a sample is NaN).

    None when the kernel is missing or does not take the block: the caller makes the same values
    with NumPy (the channel energies then summed in float32, by ``einsum``).
    """
    native = kernels()
    rows, n = x.shape
    if (
        native is None
        or not n
        or rows not in (1, 2)
        or x.dtype != np.float32
        or x.strides[1] != x.itemsize
        or x.strides[0] <= 0
        or not _sections_fit(sos, zi, 1)
    ):
        return None
    count = -(-n // hop)
    a_power, energy = np.empty(count), np.empty((rows, count))
    mix = np.empty(n, np.float32)
    extremes = np.array([-np.inf, np.inf, 0.0], np.float32)
    code = native.envelope(
        x.ctypes.data,
        rows,
        n,
        x.strides[0] // x.itemsize,
        sos.ctypes.data,
        sos.shape[0],
        zi.ctypes.data,
        hop,
        mix.ctypes.data,
        a_power.ctypes.data,
        energy.ctypes.data,
        extremes.ctypes.data,
    )
    if code != 0:
        return None
    top = float("nan") if extremes[2] else max(float(extremes[0]), -float(extremes[1]))
    return a_power, energy, mix, top


def weightings(
    a_sos: np.ndarray,
    a_zi: np.ndarray,
    k_sos: np.ndarray,
    k_zi: np.ndarray,
    k_weights: np.ndarray,
    x: np.ndarray,
    mix: np.ndarray,
    prev: float,
    hop: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per hop: the A-weighted power of ``mix``, the K-weighted power of the rows of ``x`` (``k_weights``),
    and the energy and slope energy of ``mix`` (``prev`` its sample before the first).

    Exactly ``filtered_power(a_sos, mix, a_zi, [1], hop)``, ``filtered_power(k_sos, x, k_zi,
    k_weights, hop)`` and ``energy_and_slope(mix, prev, hop)``, which it falls back to; in one pass
    of our C kernel for one or two rows, where the two filters cost about what one costs. Each row
    of ``x`` must be contiguous (the rows need not be: a block's columns are fine).
    """
    native = kernels()
    rows, n = x.shape
    count = -(-n // hop)
    k_weights = np.ascontiguousarray(k_weights, dtype=np.float64)
    if (
        native is not None
        and n
        and rows in (1, 2)
        and x.dtype == mix.dtype == np.float32
        and x.strides[1] == x.itemsize
        and x.strides[0] > 0
        and mix.flags.c_contiguous
        and len(mix) == n
        and len(k_weights) == rows
        and _sections_fit(a_sos, a_zi, 1)
        and _sections_fit(k_sos, k_zi, rows)
    ):
        a_out, k_out, energy, slope = (np.empty(count) for _ in range(4))
        code = native.weightings(
            x.ctypes.data,
            rows,
            n,
            x.strides[0] // x.itemsize,
            mix.ctypes.data,
            prev,
            a_sos.ctypes.data,
            a_sos.shape[0],
            a_zi.ctypes.data,
            k_sos.ctypes.data,
            k_sos.shape[0],
            k_zi.ctypes.data,
            k_weights.ctypes.data,
            hop,
            a_out.ctypes.data,
            k_out.ctypes.data,
            energy.ctypes.data,
            slope.ctypes.data,
        )
        if code == 0:
            return a_out, k_out, energy, slope
    rows_c = np.ascontiguousarray(x, dtype=np.float32)
    mix_c = np.ascontiguousarray(mix, dtype=np.float32)
    a_out = filtered_power(a_sos, mix_c.reshape(1, -1), a_zi, np.ones(1), hop)
    k_out = filtered_power(k_sos, rows_c, k_zi, k_weights, hop)
    return (a_out, k_out, *energy_and_slope(mix_c, prev, hop))
