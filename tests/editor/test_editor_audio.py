"""Known answers for the editor's audio parts: the peaks collector against numpy on the whole
signal (any block sizes), and a range analysed again against the import's own analysis of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.ingest.library import make_album
from wkmp_ai import params as P
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.audio.peaks import PEAKS_PER_SECOND, PeaksCollector, compute_peaks
from wkmp_ai.audio.reanalyze import analyze_ranges

QUANTUM = 1 / 32767


@pytest.mark.parametrize("rate", [44100, 48000, 22050, 11025])
def test_peaks_are_the_min_and_max_of_each_bin_whatever_the_blocks(rate: int) -> None:
    rng = np.random.default_rng(rate)
    signal = (rng.standard_normal(rate * 7 + 1234) * 0.3).astype(np.float32)
    collector = PeaksCollector(rate, scale=0.5)
    position = 0
    while position < len(signal):
        size = int(rng.integers(1, 9000))
        collector.push(signal[position : position + size])
        position += size
    peaks = collector.finish()
    size = round(rate / PEAKS_PER_SECOND)
    assert peaks.samples_per_peak == size and peaks.total_samples == len(signal)
    bins = [signal[i : i + size] * 0.5 for i in range(0, len(signal), size)]
    expected = np.array([[b.min(), b.max()] for b in bins])
    assert peaks.count == len(bins)
    assert np.max(np.abs(np.array(peaks.minmax(digits=9)).T - expected)) <= QUANTUM  # int16 quantisation only
    assert peaks.duration_s == pytest.approx(len(signal) / rate)


def test_peaks_of_their_own_decode_equal_the_imports(tmp_path: Path) -> None:
    track = make_album(tmp_path, "A", 1, seconds=6.0, songs_in_last=2, seed=3)[0]
    during = analyze_file(track.path, P.defaults(), flavor=True, peaks=True).peaks
    alone = compute_peaks(track.path)
    assert during is not None and during == alone


def test_a_range_analysed_again_gives_what_the_import_gave(tmp_path: Path) -> None:
    track = make_album(tmp_path, "A", 1, seconds=8.0, songs_in_last=3, seed=4)[0]
    analysis = analyze_file(track.path, P.defaults(), flavor=False)
    ranges = [(p.start_ticks, p.end_ticks) for p in analysis.passages]
    again = analyze_ranges(track.path, ranges, P.defaults())
    assert len(again) == len(analysis.passages) == 3
    for first, second in zip(analysis.passages, again, strict=True):
        # The same audio, fingerprinted over the same span; the resampler may start afresh at another
        # block than the import's did, which flips a few bits near the start.
        assert abs(len(second.fingerprint_raw) - len(first.fingerprint_raw)) <= 1
        pairs = list(zip(first.fingerprint_raw, second.fingerprint_raw, strict=False))
        flipped = sum(bin((a ^ b) & 0xFFFFFFFF).count("1") for a, b in pairs)
        assert flipped / (32 * len(pairs)) < 0.01, flipped / (32 * len(pairs))  # measured: 0 to 0.06 %
        assert second.lead_in_start_ticks == first.lead_in_start_ticks
        assert second.lead_out_start_ticks == first.lead_out_start_ticks
