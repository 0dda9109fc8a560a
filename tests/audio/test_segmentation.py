"""Silence segmentation against signals whose boundaries are known exactly (docs/design.md, *Segmentation*)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tests.audio.conftest import THREE_SONGS_PASSAGES, three_songs
from tests.synth import FORMATS, concat, music_like, noise, silence, tone, write_audio
from wkmp_ai import params as P
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.audio.silence import SilenceRun, group_starts, quiet_edges, segment
from wkmp_ai.errors import ErrorCode
from wkmp_ai.records.analysis import FileAnalysis
from wkmp_ai.ticks import seconds_to_ticks

# (format, sample rate, channels): every bit depth, rate and channel layout the issue names.
LOSSLESS = [
    ("wav", 44100, 2),
    ("flac", 44100, 2),
    ("flac", 22050, 1),
    ("flac24", 48000, 2),
    ("wav24", 96000, 2),
    ("wav8", 44100, 1),
    ("flac", 48000, 6),
    ("aiff", 44100, 2),
    ("alac", 44100, 2),
]

# Lossy codecs move a silence edge as seen at -60 dBFS; measured here, and the reason for each:
# - mp3 (LAME tag, delay trimmed) and AAC in MP4 (edit list): pre-echo of one transform block, ≤ ~6 ms;
# - Vorbis: pre-/post-echo of its long blocks (2048 samples), ~20 ms;
# - Opus (CELT): band energies may fall only so fast per 20 ms frame, so a cut-off song rings on
#   above -60 dBFS for ~100 ms after it stops;
# - WMA: FFmpeg's decoder drops ~37 ms at the start that ASF does not record, shifting everything.
LOSSY_TOLERANCE_S = {"mp3": 0.015, "m4a": 0.015, "ogg": 0.035, "opus": 0.12, "wma": 0.08}


def _assert_tiles(result: FileAnalysis) -> None:
    """docs/design.md, *Passages*: from tick 0 to the decoded end, each boundary shared, exactly in ticks."""
    passages = result.passages
    assert passages[0].start_ticks == 0
    assert passages[-1].end_ticks == seconds_to_ticks(result.duration_s)
    assert all(a.end_ticks == b.start_ticks for a, b in itertools.pairwise(passages))


def _passages(path: Path, **params: object) -> list[tuple[float, float]]:
    result = analyze_file(path, params, flavor=False)
    return [(p.start_s, p.end_s) for p in result.passages]


@pytest.mark.parametrize(("fmt", "sr", "channels"), LOSSLESS, ids=lambda v: str(v))
def test_three_songs_boundaries_within_10ms(fmt: str, sr: int, channels: int, audio_dir: Path) -> None:
    path = write_audio(
        audio_dir / f"three-{fmt}-{sr}-{channels}{FORMATS[fmt].suffix}", three_songs(sr, channels), sr=sr, fmt=fmt
    )
    result = analyze_file(path, {}, flavor=False)
    assert (result.sample_rate, result.channels) == (sr, channels)
    assert result.duration_s == pytest.approx(24.0, abs=1e-3)
    got = [(p.start_s, p.end_s) for p in result.passages]
    assert len(got) == 3, got
    for (start, end), (true_start, true_end) in zip(got, THREE_SONGS_PASSAGES, strict=True):
        assert abs(start - true_start) <= 0.010, (start, true_start)
        assert abs(end - true_end) <= 0.010, (end, true_end)
    _assert_tiles(result)
    assert all(p.fingerprint for p in result.passages)
    assert result.warnings == ()


@pytest.mark.parametrize("fmt", sorted(LOSSY_TOLERANCE_S))
def test_three_songs_lossy_formats(fmt: str, audio_dir: Path) -> None:
    sr = 48000 if fmt == "opus" else 44100
    path = write_audio(audio_dir / f"three-{fmt}{FORMATS[fmt].suffix}", three_songs(sr), sr=sr, fmt=fmt)
    result = analyze_file(path, {}, flavor=False)
    got = [(p.start_s, p.end_s) for p in result.passages]
    assert len(got) == 3, got
    tolerance = LOSSY_TOLERANCE_S[fmt]
    for (start, end), (true_start, true_end) in zip(got, THREE_SONGS_PASSAGES, strict=True):
        assert abs(start - true_start) <= tolerance, (fmt, start, true_start)
        assert abs(end - true_end) <= tolerance, (fmt, end, true_end)
    _assert_tiles(result)


def test_vinyl_noise_floor_is_not_silence_until_the_threshold_says_so(audio_dir: Path) -> None:
    sr = 44100
    clean = three_songs(sr)
    floor = noise(len(clean) / sr, sr=sr, level_db=-55.0, seed=7)
    path = write_audio(audio_dir / "vinyl.flac", clean + floor, sr=sr, fmt="flac")
    # The vinyl preset (-60 dB) sits below this floor: nothing is silent, so one passage.
    vinyl = P.merge_update(P.defaults(), {"source_media": "vinyl"})
    assert vinyl["silence_threshold_db"] == -60.0
    assert _passages(path, **vinyl) == [(0.0, 24.0)]
    # The cassette preset (-50 dB) hears the floor as silence: the three songs come apart.
    cassette = P.merge_update(P.defaults(), {"source_media": "cassette"})
    got = _passages(path, **cassette)
    assert len(got) == 3
    for (start, end), (true_start, true_end) in zip(got, THREE_SONGS_PASSAGES, strict=True):
        assert abs(start - true_start) <= 0.010 and abs(end - true_end) <= 0.010


def test_silence_in_one_channel_only_is_not_a_gap(audio_dir: Path) -> None:
    sr = 44100
    signal = three_songs(sr)
    # In the first gap (7-9 s) the right channel carries a -40 dB tone: that gap is not silent.
    a, b = 7 * sr, 9 * sr
    signal[a:b, 1] = tone(2.0, sr=sr, freq=300.0, amplitude=0.01, channels=1)[:, 0]
    path = write_audio(audio_dir / "one-channel.flac", signal, sr=sr, fmt="flac")
    got = _passages(path)
    assert len(got) == 2
    assert got[0][0] == 0.0
    assert got[0][1] == pytest.approx(16.0, abs=0.01)


def test_both_channels_below_threshold_at_different_levels_is_a_gap(audio_dir: Path) -> None:
    sr = 44100
    signal = three_songs(sr)
    a, b = 7 * sr, 9 * sr
    signal[a:b, 0] = noise(2.0, sr=sr, level_db=-65.0, channels=1, seed=1)[:, 0]
    signal[a:b, 1] = noise(2.0, sr=sr, level_db=-70.0, channels=1, seed=2)[:, 0]
    path = write_audio(audio_dir / "quiet-gap.flac", signal, sr=sr, fmt="flac")
    got = _passages(path)
    assert len(got) == 3
    assert got[0][1] == pytest.approx(8.0, abs=0.01)


def test_a_click_in_a_gap_joins_the_song_before_it(audio_dir: Path) -> None:
    sr = 44100
    song_a = music_like(6.0, sr=sr, seed=1)
    song_b = music_like(6.0, sr=sr, seed=2)
    click = tone(0.02, sr=sr, freq=1000.0, amplitude=0.5)
    signal = concat(silence(1.0, sr=sr), song_a, silence(2.0, sr=sr), click, silence(1.98, sr=sr), song_b)
    path = write_audio(audio_dir / "click.flac", signal, sr=sr, fmt="flac")
    result = analyze_file(path, {}, flavor=False)
    got = [(p.start_s, p.end_s) for p in result.passages]
    # Candidates: A [0, 8], the click [8, 10.01], B [10.01, 17]; the click is short and merges back.
    assert len(got) == 2
    assert got[0][0] == 0.0
    assert got[0][1] == pytest.approx(10.01, abs=0.01)
    assert got[1] == (got[0][1], 17.0)
    assert result.passages[0].import_metadata["segmentation"]["candidates"] == 3
    assert all(p.fingerprint for p in result.passages)


def test_a_short_first_piece_merges_forward(audio_dir: Path) -> None:
    sr = 44100
    signal = concat(music_like(1.0, sr=sr, seed=4), silence(2.0, sr=sr), music_like(10.0, sr=sr, seed=5))
    path = write_audio(audio_dir / "intro.flac", signal, sr=sr, fmt="flac")
    assert _passages(path) == [(0.0, 13.0)]


def test_min_silence_duration_decides_what_splits(audio_dir: Path) -> None:
    sr = 44100
    signal = concat(music_like(6.0, sr=sr, seed=1), silence(0.4, sr=sr), music_like(6.0, sr=sr, seed=2))
    path = write_audio(audio_dir / "short-gap.flac", signal, sr=sr, fmt="flac")
    assert len(_passages(path)) == 1  # 0.4 s < the 500 ms default
    got = _passages(path, min_silence_duration_ms=300)
    assert len(got) == 2
    assert got[0][1] == pytest.approx(6.2, abs=0.01)


def test_a_file_without_internal_silence_is_one_passage(audio_dir: Path) -> None:
    sr = 48000
    path = write_audio(audio_dir / "plain.flac", music_like(12.0, sr=sr, seed=9), sr=sr, fmt="flac")
    assert _passages(path) == [(0.0, 12.0)]


def test_digital_silence_is_one_quiet_passage(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "silence.flac", silence(8.0, sr=44100), sr=44100, fmt="flac")
    result = analyze_file(path, {}, flavor=True)
    (passage,) = result.passages
    assert (passage.start_s, passage.end_s) == (0.0, 8.0)
    assert passage.peak_rms == 0.0
    assert passage.lead_in_s is None and passage.lead_in_start_ticks is None
    assert passage.lead_out_s is None and passage.lead_out_start_ticks is None
    assert passage.fingerprint is None and passage.flavor is None
    codes = {w.code for w in result.warnings}
    assert {ErrorCode.QUIET_PASSAGE, ErrorCode.FINGERPRINT_FAILED} <= codes


def test_a_one_second_file(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "one-second.wav", music_like(1.0, sr=44100, seed=3), sr=44100, fmt="wav")
    result = analyze_file(path, {}, flavor=False)
    (passage,) = result.passages
    assert (passage.start_s, passage.end_s) == (0.0, 1.0)
    assert passage.lead_in_s == 0.0 and passage.quick_ramp_up
    # Chromaprint needs about 2.7 s before it emits anything: no fingerprint, and it says so.
    assert passage.fingerprint is None
    assert any(w.code is ErrorCode.FINGERPRINT_FAILED and "short" in w.message for w in result.warnings)


# --- the pure functions ------------------------------------------------------------------------


def test_group_starts_merges_short_candidates() -> None:
    assert group_starts([10, 10, 10], 5) == [0, 1, 2]
    assert group_starts([10, 2, 10], 5) == [0, 2]  # the short one joins the one before
    assert group_starts([2, 3, 10, 2, 10], 5) == [0, 4]  # leading short ones join the first long
    assert group_starts([2, 2, 2], 5) == [0]
    assert group_starts([], 5) == [0]


def test_segment_tiles_the_stream_and_splits_at_midpoints() -> None:
    runs = [SilenceRun(0, 100), SilenceRun(1000, 1200), SilenceRun(2900, 3000)]
    seg = segment(runs, 3000, min_passage=10)
    assert seg.passages == ((0, 1100), (1100, 3000))  # the edge silences stay in their passages
    assert not seg.all_silent
    everything = segment([SilenceRun(0, 500)], 500, min_passage=10)
    assert everything.passages == ((0, 500),) and everything.all_silent
    assert segment([], 800, min_passage=10).passages == ((0, 800),)


def test_segment_measures_edge_pieces_by_their_sound() -> None:
    # A click at 1000-1010 then 2000 samples of silence to the end: the last candidate spans 2060
    # samples but holds 10 of sound, so it is short and joins the passage before it. Likewise a
    # click after a long opening silence merges forward.
    runs = [SilenceRun(700, 1000), SilenceRun(1010, 3000)]
    seg = segment(runs, 3000, min_passage=500)
    assert seg.passages == ((0, 3000),)
    assert len(seg.candidates) == 2
    runs = [SilenceRun(0, 2000), SilenceRun(2010, 2300)]
    assert segment(runs, 4000, min_passage=500).passages == ((0, 4000),)
    # and a long piece after the opening silence is one of its own
    runs = [SilenceRun(0, 100), SilenceRun(1000, 1200)]
    assert segment(runs, 3000, min_passage=500).passages == ((0, 1100), (1100, 3000))


def test_quiet_edges_of_a_range() -> None:
    runs = [SilenceRun(0, 100), SilenceRun(1000, 1200), SilenceRun(2900, 3000)]
    assert quiet_edges(runs, 0, 1100) == (100, 100)
    assert quiet_edges(runs, 1100, 3000) == (100, 100)
    assert quiet_edges(runs, 300, 900) == (0, 0)
    assert quiet_edges([SilenceRun(0, 500)], 0, 500) == (500, 0)


def test_random_layouts_fingerprint_every_passage(audio_dir: Path) -> None:
    """Online merging (while decoding) must agree with the final segmentation for any layout."""
    sr = 22050
    rng = np.random.default_rng(11)
    for layout in range(6):
        pieces = [silence(float(rng.uniform(0, 1.5)), sr=sr)]
        for index in range(int(rng.integers(3, 7))):
            pieces.append(music_like(float(rng.choice([1.5, 3.0, 6.0, 9.0])), sr=sr, seed=layout * 10 + index))
            pieces.append(silence(float(rng.choice([0.3, 0.6, 1.0, 2.5])), sr=sr))
        path = write_audio(audio_dir / f"layout-{layout}.wav", concat(*pieces), sr=sr, fmt="wav")
        result = analyze_file(path, {}, flavor=False)
        for passage in result.passages:
            if passage.end_s - passage.start_s >= 3.0:
                assert passage.fingerprint, (layout, passage.start_s, result.warnings)
        starts = [p.start_s for p in result.passages]
        assert starts == sorted(starts)
        assert all(a.end_s == b.start_s for a, b in zip(result.passages, result.passages[1:], strict=False))
