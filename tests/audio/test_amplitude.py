"""Lead-in, lead-out, peak RMS and warnings against signals whose true answers are known.

The true lead-in of a fade-in is its length; of a quiet intro, the intro's length; of a sudden
attack, 0. Fades shorter than ``quick_ramp_duration_s`` (1 s) are quick ramps: 0.
Both fade shapes are tested: linear in amplitude and linear in dB (docs/audio.md, *Lead-in and lead-out*).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps

from tests.audio.conftest import three_songs
from tests.synth import concat, fade, noise, silence, tone, write_audio
from wkmp_ai.audio.analyze import analyze_amplitude, analyze_file
from wkmp_ai.audio.envelope import a_weighting_sos
from wkmp_ai.errors import ErrorCode
from wkmp_ai.ticks import seconds_to_ticks

SR = 44100


def chord(seconds: float, *, sr: int = SR, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    mono = sum(np.sin(2 * np.pi * f * t) for f in (440.0, 554.37, 659.25, 880.0))
    return np.repeat((amplitude * mono / 4)[:, None], 2, axis=1).astype(np.float32)


CARRIERS = {
    "tone": lambda s: tone(s, sr=SR, freq=1000.0, amplitude=0.5),
    "chord": chord,
    "noise": lambda s: np.clip(noise(s, sr=SR, level_db=-12.0, seed=3), -1, 1),
}


def analyse(path: Path, **params: object):
    return analyze_file(path, params, flavor=False)


@pytest.mark.parametrize("shape", ["linear", "db"])
@pytest.mark.parametrize("seconds", [0.5, 2.0, 3.0, 5.0])
@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_fades_give_their_length(carrier: str, seconds: float, shape: str, audio_dir: Path) -> None:
    # dB fades start at -50 dB so the first instants stay above the -60 dBFS silence threshold
    # and the passage starts at 0 (a trimmed start is tested separately).
    signal = fade(CARRIERS[carrier](16.0), sr=SR, fade_in_s=seconds, fade_out_s=seconds, shape=shape, floor_db=-50)
    path = write_audio(audio_dir / f"fade-{carrier}-{seconds}-{shape}.flac", signal, sr=SR, fmt="flac")
    (passage,) = analyse(path).passages
    assert (passage.start_s, passage.end_s) == (0.0, 16.0)
    if seconds < 1.0:  # faster than quick_ramp_duration_s: a quick ramp
        assert passage.lead_in_s == 0.0 and passage.quick_ramp_up
        assert passage.lead_out_s == 0.0 and passage.quick_ramp_down
    else:
        assert passage.lead_in_s == pytest.approx(seconds, abs=0.1)
        assert passage.lead_out_s == pytest.approx(seconds, abs=0.1)
        assert not passage.quick_ramp_up and not passage.quick_ramp_down


def test_the_literal_spec025_rule_would_miss_these_fades(audio_dir: Path) -> None:
    """Why the ramp end is measured: the first window at -12 dB comes far too early (docs/audio.md)."""
    signal = fade(tone(16.0, sr=SR, freq=1000.0), sr=SR, fade_in_s=3.0, shape="linear")
    path = write_audio(audio_dir / "literal.flac", signal, sr=SR, fmt="flac")
    (passage,) = analyse(path).passages
    detail = passage.import_metadata["amplitude_analysis"]["lead_in"]
    assert detail["low_level_s"] == pytest.approx(0.75, abs=0.06)  # what the literal rule returns
    assert passage.lead_in_s == pytest.approx(3.0, abs=0.05)


def test_clamps_and_quick_ramp_parameters(audio_dir: Path) -> None:
    signal = fade(tone(16.0, sr=SR, freq=1000.0), sr=SR, fade_in_s=5.0, fade_out_s=2.0, shape="db", floor_db=-50)
    path = write_audio(audio_dir / "clamp.flac", signal, sr=SR, fmt="flac")
    (passage,) = analyse(path, max_lead_in_duration_s=3.0).passages
    assert passage.lead_in_s == 3.0 and not passage.quick_ramp_up
    assert passage.lead_out_s == pytest.approx(2.0, abs=0.1)
    (passage,) = analyse(path, quick_ramp_duration_s=2.5).passages
    assert passage.lead_out_s == 0.0 and passage.quick_ramp_down  # a 2 s ramp is now "quick"
    assert passage.lead_in_s == pytest.approx(5.0, abs=0.1)


def test_sudden_attack_and_constant_level_give_zero(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "constant.flac", chord(10.0), sr=SR, fmt="flac")
    (passage,) = analyse(path).passages
    assert (passage.lead_in_s, passage.lead_out_s) == (0.0, 0.0)
    assert passage.quick_ramp_up and passage.quick_ramp_down
    assert passage.lead_in_start_ticks == passage.start_ticks
    assert passage.lead_out_start_ticks == passage.end_ticks


def test_quiet_intro_is_the_lead_in(audio_dir: Path) -> None:
    intro = tone(3.0, sr=SR, freq=1000.0, amplitude=0.5 * 10 ** (-15 / 20))
    signal = concat(intro, tone(12.0, sr=SR, freq=1000.0, amplitude=0.5))
    path = write_audio(audio_dir / "intro.flac", signal, sr=SR, fmt="flac")
    (passage,) = analyse(path).passages
    assert passage.lead_in_s == pytest.approx(3.0, abs=0.06)


def test_half_a_gap_before_a_sharp_attack(audio_dir: Path) -> None:
    """The middle song of three starts 1.000 s into its passage (half the 2 s gap), sharply."""
    gap = silence(2.0, sr=SR)
    signal = concat(silence(1.0, sr=SR), chord(6.0), gap, chord(6.0), gap, chord(6.0), silence(1.0, sr=SR))
    path = write_audio(audio_dir / "three-chords.flac", signal, sr=SR, fmt="flac")
    passages = analyse(path).passages
    assert len(passages) == 3
    middle = passages[1]
    assert middle.lead_in_s == pytest.approx(1.0, abs=0.03)
    assert middle.lead_out_s == pytest.approx(1.0, abs=0.03)
    # The file's own 1 s of opening and closing silence stays in the first and last passages
    # (docs/design.md, *Passages*) and is their lead-in / lead-out; the songs themselves start sharply.
    first, last = passages[0], passages[-1]
    assert (first.start_s, last.end_s) == (0.0, 24.0)
    assert first.lead_in_s == pytest.approx(1.0, abs=0.03) and first.quick_ramp_up
    assert last.lead_out_s == pytest.approx(1.0, abs=0.03) and last.quick_ramp_down
    assert first.import_metadata["amplitude_analysis"]["quiet_head_s"] == pytest.approx(1.0, abs=0.01)


def test_a_quiet_start_is_part_of_the_lead_in_not_cut_off(audio_dir: Path) -> None:
    # A dB fade from -60 dB after 1 s of silence: its first 0.45 s are below -60 dBFS too. The
    # passage still starts at 0 (docs/design.md, *Passages*); the silence is measured exactly, and the
    # lead-in runs from 0 to the end of the fade.
    signal = concat(silence(1.0, sr=SR), fade(tone(12.0, sr=SR, freq=1000.0), sr=SR, fade_in_s=3.0, shape="db"))
    path = write_audio(audio_dir / "quiet-start-fade.flac", signal, sr=SR, fmt="flac")
    (passage,) = analyse(path).passages
    assert (passage.start_s, passage.end_s) == (0.0, 13.0)
    level0 = 20 * np.log10(0.5 / np.sqrt(2))  # the tone's RMS in dBFS
    sound_start = 1.0 + 3.0 * (-60.0 - (level0 - 60.0)) / 60.0
    amp = passage.import_metadata["amplitude_analysis"]
    assert amp["quiet_head_s"] == pytest.approx(sound_start, abs=0.011)
    assert passage.lead_in_s == pytest.approx(4.0, abs=0.1)
    assert passage.lead_in_start_ticks == passage.start_ticks + seconds_to_ticks(passage.lead_in_s)


def test_a_long_silence_is_all_lead_in_beyond_the_ramp_clamp(audio_dir: Path) -> None:
    # max_lead_in_duration_s clamps the ramp, not the silence: the previous passage may play over
    # all 7 s of it. The 2 s fade after it is measured as before.
    signal = concat(silence(7.0, sr=SR), fade(tone(10.0, sr=SR, freq=1000.0), sr=SR, fade_in_s=2.0, floor_db=-50))
    path = write_audio(audio_dir / "long-silence.flac", signal, sr=SR, fmt="flac")
    (passage,) = analyse(path).passages
    assert passage.start_s == 0.0
    assert passage.lead_in_s == pytest.approx(9.0, abs=0.1) and not passage.quick_ramp_up


def test_quiet_passage_leaves_the_points_null(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "quiet.flac", tone(6.0, sr=SR, freq=1000.0, amplitude=0.05), sr=SR, fmt="flac")
    result = analyse(path)
    (passage,) = result.passages
    assert passage.peak_rms == pytest.approx(0.05 / np.sqrt(2), rel=0.01)
    assert passage.lead_in_s is None and passage.lead_out_s is None
    assert passage.lead_in_start_ticks is None and passage.lead_out_start_ticks is None
    assert [w.code for w in result.warnings] == [ErrorCode.QUIET_PASSAGE]
    assert "too quiet" in result.warnings[0].message
    assert passage.import_metadata["amplitude_analysis"]["too_quiet"] is True


def test_clipping_warns_and_goes_on(audio_dir: Path) -> None:
    clipped = np.clip(tone(6.0, sr=SR, freq=1000.0, amplitude=1.4), -1.0, 1.0)
    path = write_audio(audio_dir / "clipped.flac", clipped, sr=SR, fmt="flac")
    result = analyse(path)
    assert [w.code for w in result.warnings] == [ErrorCode.CLIPPING_DETECTED]
    assert result.passages[0].lead_in_s == 0.0  # analysed all the same
    assert result.passages[0].import_metadata["amplitude_analysis"]["clipping_detected"] is True


def test_clipping_is_found_in_the_passage_that_clips_only(audio_dir: Path) -> None:
    """Loud passages (peaks 0.95, 0.97) are not clipped; 0.2 s of clipping in the middle one is."""
    burst = np.clip(tone(0.2, sr=SR, freq=1000.0, amplitude=1.4), -1.0, 1.0)
    middle = concat(tone(3.0, sr=SR, amplitude=0.5), burst, tone(2.8, sr=SR, amplitude=0.5))
    gap, edge = silence(2.0, sr=SR), silence(1.0, sr=SR)
    signal = concat(edge, tone(6.0, sr=SR, amplitude=0.95), gap, middle, gap, tone(6.0, sr=SR, amplitude=0.97), edge)
    path = write_audio(audio_dir / "clip-middle.flac", signal, sr=SR, fmt="flac")
    result = analyse(path)
    assert len(result.passages) == 3
    assert [(w.code, w.passage_index) for w in result.warnings] == [(ErrorCode.CLIPPING_DETECTED, 1)]
    flags = [p.import_metadata["amplitude_analysis"]["clipping_detected"] for p in result.passages]
    assert flags == [False, True, False]


def test_peak_rms_is_a_weighted(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "100hz.flac", tone(4.0, sr=SR, freq=100.0, amplitude=0.9), sr=SR, fmt="flac")
    weighted = analyse(path).passages[0].peak_rms
    plain = analyse(path, apply_a_weighting=False).passages[0].peak_rms
    assert plain == pytest.approx(0.9 / np.sqrt(2), rel=0.01)  # TEST-034's "peak ≈ 0.9" signal
    assert 20 * np.log10(weighted / plain) == pytest.approx(-19.1, abs=0.3)  # A(100 Hz) = -19.1 dB


# IEC 61672-1 A-weighting: nominal dB and class-1 tolerances (+, -) at some frequencies.
IEC_A = [
    (31.5, -39.4, 1.5, 1.5),
    (63.0, -26.2, 1.0, 1.0),
    (125.0, -16.1, 1.0, 1.0),
    (250.0, -8.6, 1.0, 1.0),
    (500.0, -3.2, 1.0, 1.0),
    (1000.0, 0.0, 0.7, 0.7),
    (2000.0, 1.2, 1.0, 1.0),
    (4000.0, 1.0, 1.0, 1.0),
    (8000.0, -1.1, 1.5, 2.5),
    (10000.0, -2.5, 2.0, 3.0),
    (12500.0, -4.3, 3.0, 6.0),
    (16000.0, -6.6, 3.5, 17.0),
]


@pytest.mark.parametrize("rate", [44100, 48000, 88200, 96000, 192000])
def test_a_weighting_meets_iec_61672_class_1(rate: int) -> None:
    sos = a_weighting_sos(rate)
    for freq, nominal, plus, minus in IEC_A:
        if freq >= 0.45 * rate:
            continue
        _, h = sps.sosfreqz(sos, worN=[freq], fs=rate)
        got = 20 * np.log10(abs(h[0]))
        assert nominal - minus <= got <= nominal + plus, (rate, freq, got)


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 32000])
def test_a_weighting_at_low_rates_stays_within_2_db_below_0_3_fs(rate: int) -> None:
    """Near Nyquist the bilinear transform must bend the curve; below 0.3·fs it stays within 2 dB."""
    sos = a_weighting_sos(rate)
    for freq, nominal, _, _ in IEC_A:
        if freq >= 0.3 * rate:
            continue
        _, h = sps.sosfreqz(sos, worN=[freq], fs=rate)
        assert abs(20 * np.log10(abs(h[0])) - nominal) <= 2.0, (rate, freq)


def test_analyze_amplitude_over_a_range(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "three-range.flac", three_songs(SR), sr=SR, fmt="flac")
    whole = analyze_file(path, {}, flavor=False).passages[1]
    ranged = analyze_amplitude(path, whole.start_s, whole.end_s, {})
    assert ranged.lead_in_s == whole.lead_in_s and ranged.lead_out_s == whole.lead_out_s
    assert ranged.peak_rms == whole.peak_rms
    assert len(ranged.rms_profile) == pytest.approx((whole.end_s - whole.start_s) / 0.1, abs=1)
    assert ranged.rms_profile_interval_s == pytest.approx(0.1)
    # The silent halves at both ends show in the profile; the song between them does not.
    assert ranged.rms_profile[0] == 0.0 and ranged.rms_profile[-1] == 0.0
    assert 0.9 * whole.peak_rms <= max(ranged.rms_profile) <= whole.peak_rms
    with pytest.raises(ValueError):
        analyze_amplitude(path, 5.0, 4.0, {})
    with pytest.raises(ValueError):
        analyze_amplitude(path, 30.0, None, {})
