"""The vectorised tonal descriptors and danceability are Essentia's, on real music and known signals.

``wkmp_ai.audio.spectral`` recomputes, for all frames of a window at once, what Essentia's
``Windowing → Spectrum → SpectralPeaks → SpectralWhitening → HPCP`` chain computes frame by frame,
and Essentia's ``Danceability``. Stated tolerances (docs/audio.md, "Musical flavor"): each frame's
HPCP within 1e-4 of Essentia's (both unit-maximum), the band powers within 1e-5 relative, the
danceability within 1e-3 — Essentia computes in single precision, we in double.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.realmusic import CorpusUnavailable, corpus
from wkmp_ai.audio import spectral
from wkmp_ai.audio.flavor import FRAME, MAX_HZ, MAX_PEAKS, MIN_HZ, PEAK_THRESHOLD, SAMPLE_RATE, _algorithm

HPCP_TOLERANCE = 1e-4
DANCE_TOLERANCE = 1e-3
EDGES = (0.0, 250.0, 1000.0, 2500.0)
TRACKS = (  # a quiet piece, a busy one, a guitar stem that falls silent for seconds
    "singularity-music/usr/share/games/singularity/music/lose/Chimes They Fade.ogg",
    "singularity-music/usr/share/games/singularity/music/win/Apex Aleph.ogg",
    "fretsonfire-songs-sectoid/usr/share/games/fretsonfire/data/songs/sectoid/Metal madness/guitar.ogg",
)


class EssentiaChain:
    """The per-frame chain exactly as the flavor ran it before it was vectorised."""

    def __init__(self) -> None:
        self.window = _algorithm("Windowing", type="hann", size=FRAME)
        self.spectrum = _algorithm("Spectrum", size=FRAME)
        self.peaks = _algorithm(
            "SpectralPeaks",
            sampleRate=SAMPLE_RATE,
            maxPeaks=MAX_PEAKS,
            magnitudeThreshold=PEAK_THRESHOLD,
            minFrequency=MIN_HZ,
            maxFrequency=MAX_HZ,
            orderBy="magnitude",
        )
        self.whitening = _algorithm("SpectralWhitening", sampleRate=SAMPLE_RATE, maxFrequency=MAX_HZ)
        self.hpcp = _algorithm(
            "HPCP",
            size=12,
            sampleRate=SAMPLE_RATE,
            referenceFrequency=440.0,
            bandPreset=False,
            minFrequency=MIN_HZ,
            maxFrequency=MAX_HZ,
            weightType="cosine",
            nonLinear=False,
            windowSize=1.0,
        )
        self.dance = _algorithm("Danceability", sampleRate=SAMPLE_RATE)

    def frames(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per frame: HPCP (frames × 12) and band powers summed."""
        freqs = np.arange(FRAME // 2 + 1) * SAMPLE_RATE / FRAME
        band = np.searchsorted(EDGES, freqs, side="right") - 1
        hpcps, bands = [], np.zeros(4)
        for offset in range(0, len(audio) - FRAME + 1, FRAME):
            spectrum = self.spectrum(self.window(audio[offset : offset + FRAME]))
            bands += np.bincount(band, weights=np.square(spectrum, dtype=np.float64), minlength=4)
            f, m = self.peaks(spectrum)
            hpcps.append(self.hpcp(f, self.whitening(spectrum, f, m)) if len(f) else np.zeros(12))
        return np.array(hpcps, dtype=np.float64), bands


def ours() -> spectral.TonalFrames:
    return spectral.TonalFrames(
        rate=SAMPLE_RATE,
        size=FRAME,
        band_edges_hz=EDGES,
        min_hz=MIN_HZ,
        max_hz=MAX_HZ,
        max_peaks=MAX_PEAKS,
        threshold=PEAK_THRESHOLD,
    )


def per_frame(tonal: spectral.TonalFrames, audio: np.ndarray) -> np.ndarray:
    return np.array([tonal(audio[o : o + FRAME]).hpcp for o in range(0, len(audio) - FRAME + 1, FRAME)])


def stream_11025(path: Path, seconds: float | None = None) -> np.ndarray:
    """The file as the flavor sees it: mono 11025 Hz, 16-bit, scaled to ±1."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    parts = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts += [item.to_ndarray()[0] for item in resampler.resample(frame)]
    audio = np.concatenate(parts).astype(np.float32) / 32768.0
    return audio if seconds is None else audio[: round(seconds * SAMPLE_RATE)]


@pytest.fixture(scope="module")
def chain() -> EssentiaChain:
    return EssentiaChain()


@pytest.fixture(scope="module")
def recordings() -> list[np.ndarray]:
    try:
        root = corpus()
    except CorpusUnavailable as exc:
        pytest.skip(f"real-music corpus unavailable (the Debian package registry could not be used): {exc}")
    return [stream_11025(root / track) for track in TRACKS]


def synthetic() -> dict[str, np.ndarray]:
    t = np.arange(20 * SAMPLE_RATE) / SAMPLE_RATE
    rng = np.random.default_rng(11)
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0, 523.25)) / 4
    sweep = np.sin(2 * np.pi * (30 * t + 80 * t**2))  # 30 Hz → 3.2 kHz: every bin and the band edges
    return {
        "chord": 0.5 * chord,
        "sweep": 0.5 * sweep,
        "noise": 0.1 * rng.standard_normal(len(t)),
        "quiet noise": 1e-4 * rng.standard_normal(len(t)),  # peaks about the magnitude threshold
        "silence": np.zeros(len(t)),
        "clicks": np.where(np.arange(len(t)) % 5512 < 30, 0.8, 0.0),
    }


def assert_same_frames(chain: EssentiaChain, audio: np.ndarray) -> None:
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    expected, expected_bands = chain.frames(audio)
    got = per_frame(ours(), audio)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= HPCP_TOLERANCE
    bands = ours()(audio).bands
    np.testing.assert_allclose(bands, expected_bands, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("name", list(synthetic()))
def test_frames_of_known_signals_match_essentia(name: str, chain: EssentiaChain) -> None:
    assert_same_frames(chain, synthetic()[name])


def test_frames_of_real_recordings_match_essentia(chain: EssentiaChain, recordings: list[np.ndarray]) -> None:
    for audio in recordings:
        assert_same_frames(chain, audio[: 60 * SAMPLE_RATE])


def test_a_window_sums_its_frames() -> None:
    audio = synthetic()["chord"].astype(np.float32)
    whole = ours()(audio)
    assert whole.frames == len(audio) // FRAME
    np.testing.assert_allclose(whole.hpcp, per_frame(ours(), audio).sum(axis=0), rtol=1e-12)
    assert ours()(audio[: FRAME - 1]).frames == 0


def test_a_plateau_in_the_spectrum_goes_to_essentia(chain: EssentiaChain) -> None:
    """PeakDetection treats equal neighbouring bins specially; such frames get Essentia's own answer."""
    calls = []

    def essentia(spectrum: np.ndarray) -> np.ndarray:
        calls.append(spectrum)
        f, m = chain.peaks(spectrum)
        return np.asarray(chain.hpcp(f, chain.whitening(spectrum, f, m)), dtype=np.float64)

    tonal = spectral.TonalFrames(
        rate=SAMPLE_RATE,
        size=FRAME,
        band_edges_hz=EDGES,
        min_hz=MIN_HZ,
        max_hz=MAX_HZ,
        max_peaks=MAX_PEAKS,
        threshold=PEAK_THRESHOLD,
        fallback=essentia,
    )
    audio = synthetic()["chord"][: 2 * FRAME].reshape(2, FRAME)
    spectra = np.abs(np.fft.rfft(audio * tonal.window, axis=1)).astype(np.float32).astype(np.float64)
    peak = int(np.argmax(spectra[1, 40:200])) + 40
    spectra[1, peak + 1] = spectra[1, peak]  # a flat top two bins wide
    result = tonal.from_spectra(spectra)
    assert len(calls) == 1 and np.array_equal(calls[0], spectra[1].astype(np.float32))
    expected = [essentia(row.astype(np.float32)) for row in spectra]
    np.testing.assert_allclose(result.hpcp, np.sum(expected, axis=0), atol=2 * HPCP_TOLERANCE)


@pytest.mark.parametrize("name", ["chord", "noise", "clicks"])
def test_danceability_of_known_signals_is_essentias(name: str, chain: EssentiaChain) -> None:
    audio = synthetic()[name].astype(np.float32)
    expected = float(chain.dance(audio)[0])
    assert spectral.danceability(audio, SAMPLE_RATE) == pytest.approx(expected, abs=DANCE_TOLERANCE)


def test_danceability_of_real_recordings_is_essentias(chain: EssentiaChain, recordings: list[np.ndarray]) -> None:
    for audio in recordings:
        for start in range(0, len(audio) - 30 * SAMPLE_RATE, 30 * SAMPLE_RATE):
            window = audio[start : start + 30 * SAMPLE_RATE]
            expected = float(chain.dance(window)[0])
            assert spectral.danceability(window, SAMPLE_RATE) == pytest.approx(expected, abs=DANCE_TOLERANCE)


def test_danceability_of_too_little_audio_is_zero() -> None:
    assert spectral.danceability(np.zeros(100, np.float32), SAMPLE_RATE) == 0.0
    assert spectral.danceability(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE) == 0.0  # all flat


def spectra(audio: np.ndarray) -> np.ndarray:
    """The magnitude spectra of the frames of ``audio``, as TonalFrames makes them."""
    tonal = ours()
    count = len(audio) // FRAME
    frames = np.asarray(audio[: count * FRAME], np.float32).reshape(count, FRAME) * tonal.window
    return np.abs(np.fft.rfft(frames.astype(np.float64), axis=1))


def test_the_c_peaks_are_the_numpy_peaks_bit_for_bit(recordings: list[np.ndarray]) -> None:
    """Our C kernel (native/peaks.c) and the NumPy version find, place, rank and cut the same peaks."""
    from wkmp_ai.audio.kernels import kernels

    assert kernels() is not None, "the C kernels are not built (scripts/install.sh)"
    tonal = ours()
    cases = [spectra(audio[: 60 * SAMPLE_RATE]) for audio in recordings]
    cases += [spectra(signal) for signal in synthetic().values()]
    rng = np.random.default_rng(8)
    ties = np.round(rng.random((50, FRAME // 2 + 1)) * 8) / 8 + 0.01  # many equal heights, cut at 60
    cases.append(ties[~tonal._plateaus(ties)])
    crowded = 0
    for spectrum in cases:
        got = tonal._peaks(spectrum)
        expected = tonal._peaks_numpy(spectrum)
        for ours_, numpys in zip(got, expected, strict=True):
            assert np.array_equal(ours_, numpys, equal_nan=True)
        crowded += int((~np.isnan(got[0][:, -1])).sum())  # frames whose peaks filled all 60 places
    assert crowded > 100  # the cut at MAX_PEAKS was exercised, not only frames with a few peaks


@pytest.mark.parametrize("path", ["c", "numpy"])
def test_more_peaks_than_kept_keeps_essentias_loudest_ties_to_the_lower_frequency(
    chain: EssentiaChain, path: str
) -> None:
    """80 peaks of exactly equal height and 5 louder ones: the 5 and the 55 lowest of the 80, as Essentia keeps."""
    spectrum = 0.01 + 1e-6 * np.arange(FRAME // 2 + 1)  # a sloping floor: no plateau, no peak
    equal, louder = np.arange(10, 10 + 4 * 80, 4), np.arange(600, 620, 4)
    for peaks, height in ((equal, 1.0), (louder, 2.0)):
        spectrum[peaks], spectrum[peaks - 1], spectrum[peaks + 1], spectrum[peaks + 2] = height, 0.5, 0.5, 0.2
    frames = np.stack([spectrum, 0.5 * spectrum])
    got_freqs, got_mags = ours()._peaks(frames) if path == "c" else ours()._peaks_numpy(frames)
    for row, frame in enumerate(frames):
        expected_freqs, expected_mags = chain.peaks(frame.astype(np.float32))
        assert len(expected_freqs) == MAX_PEAKS and not np.isnan(got_freqs[row]).any()
        np.testing.assert_allclose(np.sort(got_freqs[row]), np.sort(expected_freqs), atol=1e-3)
        np.testing.assert_allclose(np.sort(got_mags[row]), np.sort(expected_mags), rtol=1e-6)
    bin_hz = SAMPLE_RATE / FRAME
    assert set(np.round(got_freqs[0] / bin_hz).astype(int)) == {*equal[:55], *louder}
