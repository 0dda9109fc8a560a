"""Musical flavor computed locally with Essentia on the PCM already decoded (docs/audio.md, *Musical flavor*).

Not MusicExtractor (7–19 s a track here) and not its SVM models: we run a handful of Essentia
algorithms on the stream as it decodes and keep only small per-window results, so an hour-long
file costs the same memory as a three-minute one.

Two inputs, both already produced by the decode:

- per 10 ms hop of the native-rate blocks, the K-weighted power (EBU R128 loudness, loudness range,
  dynamic complexity — :mod:`wkmp_ai.audio.loudness`) and the energy of the mono mix and of its
  first difference (the spectral centroid exactly as Essentia's ``SpectralCentroidTime`` computes
  it over a whole passage), summed by the envelope stage in its A-weighting pass
  (:func:`loudness_filter` says what to sum) and handed over at :meth:`FlavorCollector.finish`;
- the 11025 Hz mono stream made for Chromaprint, cut into analysis windows of at most 30 s that never
  straddle a possible passage boundary. Per window: ``PercivalBpmEstimator`` (tempo),
  ``Danceability`` (detrended fluctuation analysis), and per 2048-sample frame ``Spectrum`` →
  ``SpectralPeaks`` → ``SpectralWhitening`` → ``HPCP`` (12 pitch classes, as ``KeyExtractor``
  configures them) plus the power in four bands. A passage's key comes from ``Key`` (profile
  ``bgate``) on the mean HPCP of its windows; its tempo is the duration-weighted median of its
  windows' tempi; its danceability their duration-weighted mean.

The 11025 Hz stream holds everything below 5.5 kHz, which is all that tempo, key and danceability
use; the band powers and HPCP therefore describe that range (stated in the descriptors).

**Flavor vector.** Only characteristics that are genuinely distributions summing to 1 are written,
under names of our own, so they are never mistaken for (or compared with) AcousticBrainz's
classifier outputs: ``pitch_class_profile`` (share of tonal energy per pitch class, C…B) and
``spectral_balance`` (share of power in bass < 250 Hz, low-mid 250–1000 Hz, high-mid 1–2.5 kHz,
presence 2.5–5.5 kHz). Tempo, key, loudness, danceability and the rest stay raw descriptors.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from wkmp_ai.audio import loudness, spectral
from wkmp_ai.audio.chromaprint import SAMPLE_RATE
from wkmp_ai.audio.tempo import PercivalTempo

__all__ = ["PITCH_CLASSES", "SPECTRAL_BANDS", "FlavorCollector", "loudness_filter"]

WINDOW_SECONDS = 30
MAX_BUFFER_SECONDS = 90  # a window is analysed at the latest this long after it starts
MIN_RHYTHM_SECONDS = 8.0  # tempo and danceability need this much audio in a window
TEMPO_SPACING_SECONDS = 600  # a passage's tempo is measured on its first rhythmic window, then this often
QUIET_WINDOW_RMS = 10 ** (-50 / 20)
FRAME = 2048
MIN_HZ, MAX_HZ = 25.0, 3500.0  # the range tonal peaks are sought in (KeyExtractor's)
MAX_PEAKS = 60
PEAK_THRESHOLD = 1e-4
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
SPECTRAL_BANDS = (("bass", 0.0, 250.0), ("low_mid", 250.0, 1000.0), ("high_mid", 1000.0, 2500.0))
_BAND_NAMES = (*(name for name, _, _ in SPECTRAL_BANDS), "presence")

_loaded = False


def _algorithm(name: str, **params: Any) -> Callable[..., Any]:
    """An Essentia algorithm by name, configured, without importing ``essentia.standard``.

    ``essentia.standard`` instantiates every one of Essentia's ~300 algorithms when imported, to
    read their documentation: that costs ~1.5 s and ~110 MB of memory per worker process. We need
    six, so we create them through the same low-level interface ``essentia.standard`` wraps, with
    the same argument conversions.
    """
    global _loaded
    import essentia

    if not _loaded:
        essentia.log.infoActive = False  # Essentia logs to the console; the CLI's stdout is JSON
        essentia.log.warningActive = False
        _loaded = True
    from essentia import _essentia, common

    algorithm = _essentia.Algorithm(name)
    algorithm.__configure__(**{k: common.convertData(v, algorithm.paramType(k)) for k, v in params.items()})
    goals = [common.Edt(algorithm.inputType(n)) for n in algorithm.inputNames()]

    def compute(*args: Any) -> Any:
        if len(args) != len(goals):
            raise ValueError(f"{name} takes {len(goals)} inputs, got {len(args)}")
        converted = [
            common.convertData(np.ascontiguousarray(a, dtype=np.float32) if isinstance(a, np.ndarray) else a, goal)
            for a, goal in zip(args, goals, strict=True)
        ]
        return algorithm.__compute__(*converted)

    return compute


@dataclass
class _Window:
    start: int  # 11025 Hz stream index
    end: int
    energy: float
    hpcp: np.ndarray  # sum over frames of unit-max HPCP (12, A-based as Essentia returns it)
    frames: int
    bands: np.ndarray  # power per band, summed over frames
    bpm: float | None
    danceability: float | None


class _WindowAnalyzer:
    """Tempo, danceability and the per-frame tonal descriptors of one analysis window.

    The per-frame chain (``Windowing → Spectrum → SpectralPeaks → SpectralWhitening → HPCP``, as
    ``KeyExtractor`` configures it) and ``Danceability`` run vectorised over the window's frames
    (:mod:`wkmp_ai.audio.spectral`: the same arithmetic as Essentia's, ~4x faster than calling it
    frame by frame); Essentia itself runs ``PercivalBpmEstimator``, ``Key``, and the per-frame chain
    for the rare frame whose spectrum has a plateau.
    """

    def __init__(self) -> None:
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
        self.tempo = PercivalTempo(SAMPLE_RATE, _algorithm)
        self.key = _algorithm("Key", profileType="bgate", pcpSize=12)
        edges = (*(low for _, low, _ in SPECTRAL_BANDS), SPECTRAL_BANDS[-1][2])  # the top band open-ended
        self.tonal = spectral.TonalFrames(
            rate=SAMPLE_RATE,
            size=FRAME,
            band_edges_hz=edges,
            min_hz=MIN_HZ,
            max_hz=MAX_HZ,
            max_peaks=MAX_PEAKS,
            threshold=PEAK_THRESHOLD,
            fallback=self._essentia_hpcp,
        )

    def _essentia_hpcp(self, spectrum: np.ndarray) -> np.ndarray:
        freqs, mags = self.peaks(spectrum)
        if not len(freqs):
            return np.zeros(12)
        return np.asarray(self.hpcp(freqs, self.whitening(spectrum, freqs, mags)), dtype=np.float64)

    def __call__(self, audio: np.ndarray, start: int, *, tempo: bool) -> _Window:
        """The window's descriptors; its tempo only when ``tempo`` (a measurement costs ~20 ms)."""
        energy = float(np.dot(audio, audio))
        tonal = self.tonal(audio)
        bpm = dance = None
        seconds = len(audio) / SAMPLE_RATE
        if seconds >= MIN_RHYTHM_SECONDS and math.sqrt(energy / max(len(audio), 1)) >= QUIET_WINDOW_RMS:
            try:
                bpm = (float(self.tempo(audio)) or None) if tempo else None
                dance = spectral.danceability(audio, SAMPLE_RATE)
            except RuntimeError:  # Essentia raises on degenerate input; the window just lacks rhythm
                bpm = dance = None
        return _Window(start, start + len(audio), energy, tonal.hpcp, tonal.frames, tonal.bands, bpm, dance)


def loudness_filter(sample_rate: int, channel_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The K-weighting's sections (float32) and the channels' BS.1770 weights, for the per-hop sums
    the analysis makes (:class:`~wkmp_ai.audio.envelope.FrameAnalyzer`'s ``loudness``)."""
    return loudness.k_weighting_sos(sample_rate).astype(np.float32), loudness.channel_weights(channel_names)


class FlavorCollector:
    """Streaming flavor features: fed the 11025 Hz stream and the passage cuts, then at
    :meth:`finish` the native-rate per-hop sums, and asked per passage at the end."""

    def __init__(self, sample_rate: int, hop: int):
        self.sample_rate = sample_rate
        self.hop = hop
        # per hop: channel-weighted K-weighted power, mix energy, first-difference energy
        self._hops = np.zeros((3, 0), np.float32)
        self._analyze = _WindowAnalyzer()
        self._buffer: deque[np.ndarray] = deque()  # 11025 Hz chunks not yet analysed
        self._buffer_start = 0  # stream index of the buffer's first sample
        self._written = 0
        self._window_start: int | None = None
        self._cuts: list[int] = []
        self._passage_from = 0  # stream index of the last passage start the windows have reached
        self._tempo_at: int | None = None  # start of the last window whose tempo was measured
        self.windows: list[_Window] = []

    # --- 11025 Hz windows -------------------------------------------------------------------
    def push_stream(self, index: int, fp_pcm: np.ndarray) -> None:
        """Add the 11025 Hz stream (flavor needs all of it, so it comes without gaps)."""
        if len(fp_pcm):
            if not self._buffer:
                self._buffer_start = index
            self._buffer.append(np.multiply(fp_pcm, np.float32(1 / 32768), dtype=np.float32))
            self._written = index + len(fp_pcm)

    def _stream(self, native: int) -> int:
        return round(native * SAMPLE_RATE / self.sample_rate)

    def cut(self, native: int) -> None:
        """A passage may start here (sample 0 or a boundary): no window will straddle it."""
        point = self._stream(native)
        if self._window_start is None:
            self._window_start = point
        elif point > self._window_start:
            self._cuts.append(point)

    def safe(self, native: int, *, final: bool = False) -> None:
        """Analyse every window that ends before ``native`` (no unknown boundary lies before it)."""
        if self._window_start is None:
            self._discard_before(self._written)
            return
        limit = self._written if final else min(self._stream(native), self._written)
        while True:
            start = self._window_start
            while self._cuts and self._cuts[0] <= start:  # passed already by a forced window
                self._passage_from = self._cuts.pop(0)
            if self._cuts and self._cuts[0] <= self._written:
                stop = min(self._cuts[0], start + WINDOW_SECONDS * SAMPLE_RATE)
            elif start + WINDOW_SECONDS * SAMPLE_RATE <= limit or (
                self._written - start > MAX_BUFFER_SECONDS * SAMPLE_RATE
            ):
                stop = start + WINDOW_SECONDS * SAMPLE_RATE
            elif final and limit > start:
                stop = limit
            else:
                break
            if stop > start:
                window = self._analyze(self._take(start, stop), start, tempo=self._wants_tempo(start))
                if window.bpm is not None:
                    self._tempo_at = start
                self.windows.append(window)
            self._window_start = stop
        self._discard_before(self._window_start)

    def _wants_tempo(self, start: int) -> bool:
        """Measure the tempo on a passage's first rhythmic window, then every TEMPO_SPACING_SECONDS."""
        last = self._tempo_at
        return last is None or last < self._passage_from or start - last >= TEMPO_SPACING_SECONDS * SAMPLE_RATE

    def _take(self, start: int, stop: int) -> np.ndarray:
        """Stream samples [start, stop), from the chunks that hold them."""
        pieces, position = [], self._buffer_start
        for chunk in self._buffer:
            end = position + len(chunk)
            if end > start and position < stop:
                pieces.append(chunk[max(0, start - position) : stop - position])
            if end >= stop:
                break
            position = end
        return np.concatenate(pieces) if len(pieces) > 1 else pieces[0]

    def _discard_before(self, point: int) -> None:
        """Let go of the chunks wholly before ``point`` (no copying: a chunk is one decoded block)."""
        while self._buffer and self._buffer_start + len(self._buffer[0]) <= point:
            self._buffer_start += len(self._buffer.popleft())
        if not self._buffer:
            self._buffer_start = self._written

    def finish(self, hop_sums: np.ndarray) -> None:
        """The last windows, and the whole file's per-hop sums (:meth:`FrameAnalyzer.loudness_sums
        <wkmp_ai.audio.envelope.FrameAnalyzer.loudness_sums>`)."""
        self.safe(0, final=True)
        self._buffer.clear()
        self._hops = hop_sums

    # --- per passage ------------------------------------------------------------------------
    def passage(self, start: int, end: int) -> dict[str, Any] | None:
        """The flavor of native samples [start, end): ``{"vector", "descriptors", "source"}`` or None if silent."""
        hops = self._hops
        first, last = start // self.hop, max(start // self.hop + 1, -(-end // self.hop))
        k_power, x2, d2 = (row[first:last].astype(np.float64) / self.hop for row in hops)
        hop_s = self.hop / self.sample_rate
        integrated = loudness.integrated_loudness(k_power, hop_s)
        if integrated is None:
            return None
        a, b = self._stream(start), self._stream(end)
        windows = [w for w in self.windows if a <= (w.start + w.end) / 2 < b]
        descriptors: dict[str, Any] = {
            "loudness_integrated_lufs": round(integrated, 2),
            "loudness_range_lu": _round(loudness.loudness_range(k_power, hop_s), 2),
            "dynamic_complexity_lu": _round(loudness.dynamic_complexity(k_power, hop_s), 3),
            "spectral_centroid_hz": _round(_centroid(x2, d2, self.sample_rate), 1),
        }
        descriptors.update(self._window_descriptors(windows))
        vector = _vector(windows)
        return {"vector": vector, "descriptors": descriptors, "source": "essentia"}

    def _window_descriptors(self, windows: list[_Window]) -> dict[str, Any]:
        seconds = [(w.end - w.start) / SAMPLE_RATE for w in windows]
        rhythmic = [(w.bpm, s) for w, s in zip(windows, seconds, strict=True) if w.bpm]
        dances = [(w.danceability, s) for w, s in zip(windows, seconds, strict=True) if w.danceability is not None]
        frames = sum(w.frames for w in windows)
        out: dict[str, Any] = {
            "bpm": _round(_weighted_median(rhythmic), 1),
            "danceability": _round(_weighted_mean(dances), 3),
            "key": None,
            "scale": None,
            "key_strength": None,
            "analysis_windows": len(windows),
            "analysis_rate_hz": SAMPLE_RATE,
        }
        mean_hpcp = sum((w.hpcp for w in windows), np.zeros(12)) / max(frames, 1)
        if frames and mean_hpcp.max() > 0:
            key, scale, strength, _ = self._analyze.key(mean_hpcp.astype(np.float32))
            out.update(key=key, scale=scale, key_strength=round(float(strength), 3))
        return out


def _vector(windows: list[_Window]) -> dict[str, dict[str, float]]:
    vector: dict[str, dict[str, float]] = {}
    hpcp = sum((w.hpcp for w in windows), np.zeros(12))
    if hpcp.sum() > 0:
        by_c = np.roll(hpcp, -3)  # Essentia's HPCP starts at A (440 Hz); the profile starts at C
        vector["pitch_class_profile"] = _distribution(dict(zip(PITCH_CLASSES, by_c, strict=True)))
    bands = sum((w.bands for w in windows), np.zeros(len(_BAND_NAMES)))
    if bands.sum() > 0:
        vector["spectral_balance"] = _distribution(dict(zip(_BAND_NAMES, bands, strict=True)))
    return vector


def _distribution(values: dict[str, float]) -> dict[str, float]:
    """Normalise to sum 1 with 6 decimals, putting the rounding remainder on the largest class."""
    total = float(sum(values.values()))
    rounded = {k: round(float(v) / total, 6) for k, v in values.items()}
    largest = max(rounded, key=lambda k: rounded[k])
    rounded[largest] = round(rounded[largest] + 1.0 - sum(rounded.values()), 6)
    return rounded


def _centroid(x2: np.ndarray, d2: np.ndarray, sample_rate: int) -> float | None:
    total = float(x2.sum())
    if total <= 0:
        return None
    return math.sqrt(float(d2.sum()) / total) * sample_rate / (2 * math.pi)


def _weighted_mean(pairs: list[tuple[float, float]]) -> float | None:
    weight = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / weight if weight > 0 else None


def _weighted_median(pairs: list[tuple[float, float]]) -> float | None:
    if not pairs:
        return None
    ordered = sorted(pairs)
    half = sum(w for _, w in ordered) / 2
    running = 0.0
    for value, weight in ordered:
        running += weight
        if running >= half:
            return value
    return ordered[-1][0]


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
