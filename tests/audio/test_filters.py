"""The analysis without SciPy's heavy modules gives SciPy's answers.

A process that analyses audio no longer imports ``scipy.signal`` or ``scipy.ndimage`` (~1.5 s of
CPU at each start, docs/audio.md "Performance"): the A-weighting is designed with NumPy, filtered
by our C kernel (SciPy's arithmetic bit for bit) or SciPy's compiled ``sosfilt`` kernel loaded on
its own, the amplitude analysis' running maximum and line fit are NumPy. Each is checked against
the SciPy function it replaces.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from scipy import signal as sps

from tests.synth import music_like, write_audio
from wkmp_ai.audio import iir
from wkmp_ai.audio.amplitude import _hold, _line
from wkmp_ai.audio.envelope import _A_POLES_HZ, FrameAnalyzer, a_weighting_sos, channel_sum, hop_samples
from wkmp_ai.audio.kernels import LIBRARY
from wkmp_ai.audio.loudness import channel_weights, k_weighting_sos

RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000)


def scipy_a_weighting(rate: int) -> np.ndarray:
    """The design the analysis used before: SciPy's bilinear transform and pole pairing."""
    poles = []
    for f in _A_POLES_HZ:
        if f > 1000.0:
            f = rate / np.pi * np.tan(np.pi * min(f, 0.45 * rate) / rate)
        poles.append(-2.0 * np.pi * f)
    z, p, k = sps.bilinear_zpk([0.0, 0.0, 0.0, 0.0], poles, 1.0, rate)
    sos = sps.zpk2sos(z, p, k)
    _, h = sps.sosfreqz(sos, worN=[1000.0], fs=rate)
    sos[0, :3] /= abs(h[0])
    return sos


@pytest.mark.parametrize("rate", RATES)
def test_a_weighting_is_scipys_design_section_for_section(rate: int) -> None:
    np.testing.assert_allclose(a_weighting_sos(rate), scipy_a_weighting(rate), rtol=0, atol=1e-12)


def _use(kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pick the kernel under test: ours (C), SciPy's compiled one, or the public fallback."""
    if kernel == "native":
        assert iir.native_available(), f"the C kernels {LIBRARY} are not built (scripts/install.sh)"
        return
    monkeypatch.setattr(iir, "kernels", lambda: None)  # as when the library was not built
    if kernel == "public":  # the fallback for a SciPy whose kernel cannot be loaded on its own
        monkeypatch.setattr(iir, "_kernel", iir._public)
    else:
        assert iir._get() is not iir._public, "SciPy's compiled kernel did not load"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", ["native", "compiled", "public"])
def test_filtering_in_place_equals_sosfilt_across_blocks(
    dtype: type, kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(kernel, monkeypatch)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 50_000)) * 0.3
    sos = np.vstack([a_weighting_sos(44100), k_weighting_sos(44100)])[:4]  # 4 sections: the C kernel's most
    expected = sps.sosfilt(sos, x, axis=1)
    out = np.ascontiguousarray(x, dtype=dtype)
    state = np.zeros((2, len(sos), 2), dtype)
    for start in range(0, x.shape[1], 8192):  # blocks carry the state, as the decode feeds them
        block = np.ascontiguousarray(out[:, start : start + 8192])
        iir.sosfilt_inplace(np.asarray(sos, dtype), block, state)
        out[:, start : start + 8192] = block
    error = np.sum((out - expected) ** 2) / np.sum(expected**2)
    assert error < (1e-24 if dtype is np.float64 else 1e-6)  # float32: the -60 dB docs/audio.md states


@pytest.mark.parametrize("rows", [1, 2, 3, 6])
@pytest.mark.parametrize("sections", [1, 2, 3, 4, 5])
def test_the_c_kernel_is_scipys_bit_for_bit(rows: int, sections: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Identical samples and states, not merely close: the analysis' results must not move with the kernel.

    Five sections are beyond the C kernel: SciPy's does them (same answer, by the same test).
    """
    rng = np.random.default_rng(rows * 10 + sections)
    sos = np.vstack([a_weighting_sos(48000), k_weighting_sos(48000)])[:sections].astype(np.float32)
    x = (rng.standard_normal((rows, 30_001)) * 0.5).astype(np.float32)
    state = (rng.standard_normal((rows, sections, 2)) * 0.01).astype(np.float32)
    results = []
    for kernel in ("native", "compiled"):
        _use(kernel, monkeypatch)
        out, zi = x.copy(), state.copy()
        for start in range(0, x.shape[1], 4096):
            block = np.ascontiguousarray(out[:, start : start + 4096])
            iir.sosfilt_inplace(sos, block, zi)
            out[:, start : start + 4096] = block
        results.append((out, zi))
        monkeypatch.undo()
    (ours, our_state), (scipys, scipy_state) = results
    assert np.array_equal(ours, scipys) and np.array_equal(our_state, scipy_state)
    assert not np.array_equal(ours, x), "nothing was filtered"


def test_hold_is_scipys_running_maximum() -> None:
    rng = np.random.default_rng(3)
    for n in (2, 3, 49, 50, 51, 1000, 18_001):
        x = rng.random(n)
        for step_s, size in ((0.01, 50), (0.02, 25), (0.1, 5), (0.5, 1)):
            expected = ndimage.maximum_filter1d(x, size=size, origin=(size - 1) // 2, mode="nearest")
            assert np.array_equal(_hold(x, step_s), expected), (n, size)


def test_line_fit_is_polyfit() -> None:
    rng = np.random.default_rng(4)
    for n in (2, 3, 10, 500):
        x = np.sort(rng.random(n)) * 5
        y = -40 + 30 * x + rng.standard_normal(n)
        np.testing.assert_allclose(_line(x, y), np.polyfit(x, y, 1), rtol=1e-9)


def test_an_analysing_process_loads_no_heavy_scipy_module_and_no_blas_threads(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "a.flac", music_like(5.0, sr=44100), sr=44100, fmt="flac")
    script = (
        "import os, sys, json\n"
        "from wkmp_ai.audio.analyze import analyze_file\n"
        f"analyze_file({str(path)!r}, {{}}, flavor=False)\n"
        "print(json.dumps({'modules': sorted(m for m in sys.modules if m.startswith('scipy.')),"
        " 'threads': len(os.listdir('/proc/self/task'))}))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    report = json.loads(out.stdout)
    heavy = [m for m in report["modules"] if m.split(".")[1] in ("signal", "ndimage", "stats", "optimize")]
    # Our C kernels do the filtering; without them SciPy's kernel, loaded alone.
    assert heavy == ([] if iir.native_available() else ["scipy.signal._sosfilt"]), heavy
    assert report["threads"] == 1  # no OpenBLAS threads spinning beside the analysis


@pytest.mark.parametrize("kernel", ["native", "compiled"])
@pytest.mark.parametrize("rows", [1, 2, 3])
def test_filtered_power_is_the_power_of_sosfilts_output_per_hop(
    kernel: str, rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The K-weighting's one pass (filter, square, sum per hop, weigh channels) equals doing it step by step."""
    _use(kernel, monkeypatch)
    rng = np.random.default_rng(rows)
    sos = k_weighting_sos(44100)
    x = (rng.standard_normal((rows, 44_100)) * 0.3).astype(np.float32)
    weights = np.array([1.0, 1.41, 0.0][:rows])
    hop = 441
    y = sps.sosfilt(sos, x.astype(np.float64), axis=1)
    expected = np.zeros(100)
    for row, weight in zip(y, weights, strict=True):
        power = row**2
        expected[:100] += weight * power[:44_100].reshape(100, hop).sum(axis=1)
    sos32 = sos.astype(np.float32)
    # In two blocks carrying the state, as the flavor feeds it whole hops.
    state = np.zeros((rows, 2, 2), np.float32)
    x_before = x.copy()
    first = iir.filtered_power(sos32, np.ascontiguousarray(x[:, :29_988]), state, weights, hop)
    rest = iir.filtered_power(sos32, np.ascontiguousarray(x[:, 29_988:]), state, weights, hop)
    np.testing.assert_array_equal(x, x_before)  # the input is left as it was
    assert (len(first), len(rest)) == (68, 32)
    np.testing.assert_allclose(np.concatenate([first, rest]), expected[:100], rtol=2e-5)  # float32 filtering
    # A partial last hop is summed over the samples it has.
    short = iir.filtered_power(
        sos32, np.ascontiguousarray(x[:, :30_000]), np.zeros((rows, 2, 2), np.float32), weights, hop
    )
    partial = sum(w * float(np.sum(r[29_988:30_000] ** 2)) for r, w in zip(y, weights, strict=True))
    assert len(short) == 69
    np.testing.assert_allclose(short[-1], partial, rtol=2e-4)


@pytest.mark.parametrize("kernel", ["native", "numpy"])
def test_energy_and_slope_per_hop_across_blocks(kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spectral centroid's sums: energy of the mix and of its first difference, per hop, blocks joined."""
    if kernel == "native":
        assert iir.native_available()
    else:
        monkeypatch.setattr(iir, "kernels", lambda: None)
    rng = np.random.default_rng(5)
    mono = (rng.standard_normal(10_000) * 0.4).astype(np.float32)
    hop = 441
    diff = np.diff(mono, prepend=np.float32(0.0)).astype(np.float64)  # the file starts from 0
    whole = 10_000 // hop * hop
    expected_energy = (mono[:whole].astype(np.float64) ** 2).reshape(-1, hop).sum(axis=1)
    expected_slope = (diff[:whole] ** 2).reshape(-1, hop).sum(axis=1)
    e1, s1 = iir.energy_and_slope(mono[: 10 * hop], 0.0, hop)
    e2, s2 = iir.energy_and_slope(mono[10 * hop :], float(mono[10 * hop - 1]), hop)
    assert len(e2) == 13 and 10_000 - whole == 298  # the last hop partial
    np.testing.assert_allclose(np.concatenate([e1, e2[:-1]]), expected_energy, rtol=1e-6)
    np.testing.assert_allclose(np.concatenate([s1, s2[:-1]]), expected_slope, rtol=1e-6)
    np.testing.assert_allclose(e2[-1], float(np.sum(mono[whole:].astype(np.float64) ** 2)), rtol=1e-6)
    np.testing.assert_allclose(s2[-1], float(np.sum(diff[whole:] ** 2)), rtol=1e-6)


def _separately(
    a_sos: np.ndarray, k_sos: np.ndarray, weights: np.ndarray, x: np.ndarray, pieces: list[tuple[int, int]]
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The A-weighted mix, the K-weighted channels and the mix's energy and slope, each by its own kernel."""
    a_zi, k_zi = np.zeros((1, len(a_sos), 2), np.float32), np.zeros((len(x), len(k_sos), 2), np.float32)
    mix = channel_sum(x)
    out: list[list[np.ndarray]] = [[], [], [], []]
    prev = 0.0
    for start, stop in pieces:
        hop = min(441, stop - start)
        m, rows = np.ascontiguousarray(mix[start:stop]), np.ascontiguousarray(x[:, start:stop])
        out[0].append(iir.filtered_power(a_sos, m.reshape(1, -1), a_zi, np.ones(1), hop))
        out[1].append(iir.filtered_power(k_sos, rows, k_zi, weights, hop))
        for row, sums in zip(out[2:], iir.energy_and_slope(m, prev, hop), strict=True):
            row.append(sums)
        prev = float(m[-1])
    return [np.concatenate(parts) for parts in out], a_zi, k_zi


@pytest.mark.parametrize("rows", [1, 2])
def test_both_weightings_in_one_pass_are_the_separate_passes_bit_for_bit(rows: int) -> None:
    """weightings_f32 (the A- and K-weighting as lanes of one vector) gives each kernel's own sums and states."""
    assert iir.native_available()
    rng = np.random.default_rng(20 + rows)
    wide = (rng.standard_normal((rows, 90_000)) * 0.4).astype(np.float32)
    x = wide[:, 1_000:80_000]  # rows contiguous, the block not: as a block's columns reach the kernel
    mix = channel_sum(x)
    a_sos = a_weighting_sos(44100)
    a_sos[0, :3] /= rows  # the mix's 1/channels in the filter's gain, as FrameAnalyzer has it
    a_sos = a_sos.astype(np.float32)
    k_sos = k_weighting_sos(44100).astype(np.float32)
    weights = np.array([1.0, 1.41][:rows])
    pieces = [(0, 441 * 40), (441 * 40, 441 * 150), (441 * 150, 79_000)]  # whole hops, then a partial one
    expected, a_state, k_state = _separately(a_sos, k_sos, weights, x, pieces)
    a_zi, k_zi = np.zeros((1, 3, 2), np.float32), np.zeros((rows, 2, 2), np.float32)
    got: list[list[np.ndarray]] = [[], [], [], []]
    prev = 0.0
    for start, stop in pieces:
        sums = iir.weightings(
            a_sos, a_zi, k_sos, k_zi, weights, x[:, start:stop], mix[start:stop], prev, min(441, stop - start)
        )
        for row, part in zip(got, sums, strict=True):
            row.append(part)
        prev = float(mix[stop - 1])
    for ours, theirs in zip(got, expected, strict=True):
        assert np.array_equal(np.concatenate(ours), theirs)
    assert np.array_equal(a_zi, a_state) and np.array_equal(k_zi, k_state)
    assert len(expected[0]) == 180 and np.all(expected[1] > 0)


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_the_flavors_sums_made_with_the_envelopes_are_the_separate_sums(channels: int) -> None:
    """FrameAnalyzer with ``loudness`` (blocks of odd sizes: hops carried across blocks) keeps its
    envelopes as they were and sums per hop what the K-weighting and energy kernels give over the
    whole signal (six channels take the separate kernels inside)."""
    rate = 44100
    hop = hop_samples(rate)
    rng = np.random.default_rng(channels)
    x = (rng.standard_normal((channels, 5 * rate + 123)) * 0.3).astype(np.float32)
    names = ["FL", "FR", "FC", "LFE", "BL", "BR"][:channels] if channels > 1 else ["FC"]
    k_sos, weights = k_weighting_sos(rate).astype(np.float32), channel_weights(names)
    plain = FrameAnalyzer(rate, channels)
    with_sums = FrameAnalyzer(rate, channels, loudness=(k_sos, weights))
    for start in range(0, x.shape[1], 30_001):
        block = x[:, start : start + 30_001]
        for analyzer in (plain, with_sums):
            analyzer.push(np.ascontiguousarray(block))
    plain.finish()
    with_sums.finish()
    assert np.array_equal(plain.envelopes().weighted_ms, with_sums.envelopes().weighted_ms)
    whole = x.shape[1] // hop * hop
    mix = channel_sum(x)
    state = np.zeros((channels, 2, 2), np.float32)
    k_power = np.concatenate(
        [
            iir.filtered_power(k_sos, np.ascontiguousarray(x[:, :whole]), state, weights, hop),
            iir.filtered_power(k_sos, np.ascontiguousarray(x[:, whole:]), state, weights, x.shape[1] - whole),
        ]
    )
    e1, s1 = iir.energy_and_slope(np.ascontiguousarray(mix[:whole]), 0.0, hop)
    e2, s2 = iir.energy_and_slope(np.ascontiguousarray(mix[whole:]), float(mix[whole - 1]), x.shape[1] - whole)
    expected = np.array([k_power, np.concatenate([e1, e2]), np.concatenate([s1, s2])], np.float32)
    assert np.array_equal(with_sums.loudness_sums(), expected)


def test_rows_the_fused_kernel_cannot_take_give_the_same_sums() -> None:
    """Rows in reverse order (a negative stride) go to the separate kernels, with the same answer."""
    rng = np.random.default_rng(31)
    x = (rng.standard_normal((2, 8_820)) * 0.3).astype(np.float32)[::-1]
    mix = channel_sum(x)
    a_sos, k_sos = a_weighting_sos(44100).astype(np.float32), k_weighting_sos(44100).astype(np.float32)
    weights = np.array([1.0, 1.41])
    zeros = (np.zeros((1, 3, 2), np.float32), np.zeros((2, 2, 2), np.float32))
    got = iir.weightings(a_sos, zeros[0], k_sos, zeros[1], weights, x, mix, 0.0, 441)
    expected, _, _ = _separately(a_sos, k_sos, weights, np.ascontiguousarray(x), [(0, 8_820)])
    for ours, theirs in zip(got, expected, strict=True):
        assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("rows", [1, 2])
def test_the_envelope_pass_without_flavor_is_numpys_and_the_a_weightings(rows: int) -> None:
    """envelope_f32 (no flavor: the mix, its A-weighting, the channels' energies and the peak in one
    pass): the mix and the A-weighted sums and state bit for bit; the channel energies (float64
    sums here, NumPy's einsum sums in float32) within 1e-6; the peak exactly."""
    assert iir.native_available()
    rng = np.random.default_rng(40 + rows)
    wide = (rng.standard_normal((rows, 50_000)) * 0.4).astype(np.float32)
    x = wide[:, 500:44_600]  # rows contiguous, the block not; 100 whole hops
    hop = 441
    sos = a_weighting_sos(44100)
    sos[0, :3] /= rows
    sos = sos.astype(np.float32)
    zi, expected_zi = np.zeros((1, 3, 2), np.float32), np.zeros((1, 3, 2), np.float32)
    for _ in range(2):  # twice: the state carried from one block to the next
        fused = iir.a_weighted_envelope(sos, zi, x, hop)
        assert fused is not None
        a_power, energy, mix, top = fused
        expected_mix = channel_sum(x)
        assert np.array_equal(mix, expected_mix)
        expected_power = iir.filtered_power(sos, expected_mix.reshape(1, -1), expected_zi, np.ones(1), hop)
        assert np.array_equal(a_power, expected_power)
        assert np.array_equal(zi, expected_zi)
        numpy_energy = np.array([np.einsum("ij,ij->i", r, r) for r in x.reshape(rows, -1, hop)], np.float64)
        assert energy.shape == (rows, 100)
        assert np.allclose(energy, numpy_energy, rtol=1e-6, atol=0)
        assert top == max(float(x.max()), -float(x.min()))


def test_the_envelope_pass_says_what_it_cannot_take() -> None:
    sos = a_weighting_sos(44100).astype(np.float32)
    zi = np.zeros((1, 3, 2), np.float32)
    x = (np.random.default_rng(3).standard_normal((3, 4410)) * 0.3).astype(np.float32)
    assert iir.a_weighted_envelope(sos, zi, x, 441) is None  # three channels: NumPy's passes
    assert iir.a_weighted_envelope(sos, zi, x[1::-1], 441) is None  # a negative stride
    assert np.array_equal(zi, np.zeros((1, 3, 2), np.float32))
    x[1, 100] = np.nan
    fused = iir.a_weighted_envelope(sos, zi, x[:2], 441)
    assert fused is not None and np.isnan(fused[3])  # as max(pcm.max(), -pcm.min()) with a NaN


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_envelopes_without_flavor_are_the_numpy_passes(channels: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """FrameAnalyzer without flavor (the fused pass for one or two channels, NumPy's for three; odd
    block sizes, so hops are carried across blocks) against NumPy alone: the A-weighted envelope and
    the peaks identical, the loudest channel's energy within 5e-6 (NumPy sums it in float32)."""
    rate = 44100
    rng = np.random.default_rng(50 + channels)
    x = (rng.standard_normal((channels, 4 * rate + 77)) * 0.3).astype(np.float32)
    x[0, 3 * rate : 3 * rate + 500] = 0.995  # a clipped stretch: the peaks are looked at per hop

    def run() -> tuple[FrameAnalyzer, np.ndarray, list[np.ndarray]]:
        analyzer = FrameAnalyzer(rate, channels)
        louds, mixes = [], []
        for start in range(0, x.shape[1], 441 * 50):  # whole hops, then one partial block
            loud, mix = analyzer.push(np.ascontiguousarray(x[:, start : start + 441 * 50]))
            louds.append(loud)
            mixes.append(mix)
        louds.append(analyzer.finish())
        return analyzer, np.concatenate(louds), mixes

    fused, fused_loud, fused_mixes = run()
    monkeypatch.setattr(iir, "kernels", lambda: None)  # no C kernels: NumPy and SciPy throughout
    plain, plain_loud, plain_mixes = run()
    assert np.array_equal(fused.envelopes().weighted_ms, plain.envelopes().weighted_ms)
    assert np.array_equal(fused.envelopes().peak, plain.envelopes().peak)
    assert np.max(np.abs(fused_loud / plain_loud - 1)) < 5e-6  # float32 sums of 441 squares: ~1e-6 off
    assert all(np.array_equal(a, b) for a, b in zip(fused_mixes, plain_mixes, strict=True))
