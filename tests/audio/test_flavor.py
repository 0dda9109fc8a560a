"""Musical flavor: Essentia descriptors against signals whose tempo, key and loudness are known,
EBU R128 against the EBU's own test signals, and the flavor vector's honesty rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.audio.conftest import three_songs
from tests.synth import noise, silence, tone, write_audio
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.audio.flavor import PITCH_CLASSES, _algorithm
from wkmp_ai.audio.loudness import channel_weights, k_weighting_sos

SR = 44100
C_MAJOR = [[261.63, 329.63, 392.00], [349.23, 440.00, 523.25], [392.00, 493.88, 587.33], [261.63, 329.63, 392.00]]
A_MINOR = [[220.00, 261.63, 329.63], [293.66, 349.23, 440.00], [329.63, 415.30, 493.88], [220.00, 261.63, 329.63]]


def stereo(mono: np.ndarray) -> np.ndarray:
    return np.repeat(mono.astype(np.float32)[:, None], 2, axis=1)


def progression(chords: list[list[float]], seconds_each: float = 4.0, repeats: int = 2) -> np.ndarray:
    t = np.arange(round(seconds_each * SR)) / SR
    parts = [sum(np.sin(2 * np.pi * f * k * t) / k for f in notes for k in (1, 2, 3)) for notes in chords * repeats]
    mono = np.concatenate(parts)
    return stereo(0.5 * mono / np.max(np.abs(mono)))


def clicks(seconds: float, bpm: float) -> np.ndarray:
    mono = np.zeros(round(seconds * SR))
    t = np.arange(round(0.03 * SR)) / SR
    click = 0.8 * np.sin(2 * np.pi * 1500 * t) * np.exp(-t / 0.008)
    for k in range(int(seconds * bpm / 60) + 1):
        i = round(k * 60 / bpm * SR)
        piece = click[: len(mono) - i]
        mono[i : i + len(piece)] += piece
    return stereo(mono)


def flavor_of(path: Path) -> dict:
    (passage,) = analyze_file(path, {}, flavor=True).passages
    assert passage.flavor is not None
    return passage.flavor


@pytest.mark.parametrize(("chords", "key", "scale"), [(C_MAJOR, "C", "major"), (A_MINOR, "A", "minor")])
def test_key_and_pitch_class_profile(chords: list[list[float]], key: str, scale: str, audio_dir: Path) -> None:
    path = write_audio(audio_dir / f"key-{key}.flac", progression(chords), sr=SR, fmt="flac")
    flavor = flavor_of(path)
    d = flavor["descriptors"]
    assert (d["key"], d["scale"]) == (key, scale)
    assert d["key_strength"] > 0.8
    profile = flavor["vector"]["pitch_class_profile"]
    assert list(profile) == list(PITCH_CLASSES)
    assert sum(profile.values()) == pytest.approx(1.0, abs=1e-6)
    used = {PITCH_CLASSES[round(12 * np.log2(f / 261.63)) % 12] for chord in chords for f in chord}
    strongest = sorted(profile, key=profile.get, reverse=True)[: len(used)]
    assert set(strongest) == used


@pytest.mark.parametrize("bpm", [96.0, 128.0])
def test_tempo_and_danceability(bpm: float, audio_dir: Path) -> None:
    path = write_audio(audio_dir / f"clicks-{bpm}.flac", clicks(30.0, bpm), sr=SR, fmt="flac")
    d = flavor_of(path)["descriptors"]
    assert d["bpm"] == pytest.approx(bpm, rel=0.02)
    steady = write_audio(audio_dir / "steady-noise.flac", noise(30.0, sr=SR, level_db=-20.0), sr=SR, fmt="flac")
    assert d["danceability"] > flavor_of(steady)["descriptors"]["danceability"]


def test_ebu_r128_test_signals(audio_dir: Path) -> None:
    """EBU Tech 3341 case 1 (1 kHz at -23 dBFS → -23 LUFS) and Tech 3342 case 1 (20 s at -20 dBFS
    then 20 s at -30 dBFS → LRA 10 LU)."""
    t = np.arange(20 * SR) / SR
    sine = np.sin(2 * np.pi * 1000 * t)
    one = write_audio(audio_dir / "ebu-3341-1.wav", stereo(sine * 10 ** (-23 / 20)), sr=SR, fmt="wav24")
    assert flavor_of(one)["descriptors"]["loudness_integrated_lufs"] == pytest.approx(-23.0, abs=0.1)
    two_levels = np.concatenate([sine * 10 ** (-20 / 20), sine * 10 ** (-30 / 20)])
    two = write_audio(audio_dir / "ebu-3342-1.wav", stereo(two_levels), sr=SR, fmt="wav24")
    d = flavor_of(two)["descriptors"]
    assert d["loudness_range_lu"] == pytest.approx(10.0, abs=1.0)
    assert d["dynamic_complexity_lu"] > 3.0  # the level jumps by 10 LU halfway


def test_loudness_agrees_with_essentia(audio_dir: Path) -> None:
    signal = three_songs(SR)[round(1.0 * SR) : round(7.0 * SR)]  # the first song alone
    path = write_audio(audio_dir / "song.wav", signal, sr=SR, fmt="wav24")
    d = flavor_of(path)["descriptors"]
    _, _, integrated, loudness_range = _algorithm("LoudnessEBUR128", sampleRate=SR)(signal)
    assert d["loudness_integrated_lufs"] == pytest.approx(integrated, abs=0.2)
    assert d["loudness_range_lu"] == pytest.approx(loudness_range, abs=0.5)


def test_k_weighting_is_bs1770_at_48khz_and_channels_are_weighted() -> None:
    sos = k_weighting_sos(48000)
    np.testing.assert_allclose(sos[0, :3], [1.53512485958697, -2.69169618940638, 1.19839281085285], rtol=1e-6)
    np.testing.assert_allclose(sos[0, 4:], [-1.69065929318241, 0.73248077421585], rtol=1e-6)
    np.testing.assert_allclose(sos[1, 4:], [-1.99004745483398, 0.99007225036621], rtol=1e-6)
    assert list(channel_weights(["FL", "FR", "FC", "LFE", "BL", "BR"])) == [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]


def test_spectral_centroid_is_essentias_and_balance_follows_the_spectrum(audio_dir: Path) -> None:
    low = write_audio(audio_dir / "low.flac", tone(12.0, sr=SR, freq=100.0), sr=SR, fmt="flac")
    high = write_audio(audio_dir / "high.flac", tone(12.0, sr=SR, freq=3000.0), sr=SR, fmt="flac")
    for path, band, freq in ((low, "bass", 100.0), (high, "presence", 3000.0)):
        flavor = flavor_of(path)
        balance = flavor["vector"]["spectral_balance"]
        assert sum(balance.values()) == pytest.approx(1.0, abs=1e-6)
        assert balance[band] > 0.95
        mono = tone(12.0, sr=SR, freq=freq, channels=1)[:, 0]
        reference = _algorithm("SpectralCentroidTime", sampleRate=SR)(mono)
        assert flavor["descriptors"]["spectral_centroid_hz"] == pytest.approx(reference, rel=0.01)


def test_each_passage_has_its_own_flavor_and_silence_has_none(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "three-flavor.flac", three_songs(SR), sr=SR, fmt="flac")
    result = analyze_file(path, {}, flavor=True)
    profiles = [p.flavor["vector"]["pitch_class_profile"] for p in result.passages]
    assert len(profiles) == 3 and profiles[0] != profiles[1] != profiles[2]
    for passage in result.passages:
        assert passage.flavor["source"] == "essentia"
        assert passage.import_metadata["flavor"]["descriptors"] == passage.flavor["descriptors"]
        for classes in passage.flavor["vector"].values():
            assert sum(classes.values()) == pytest.approx(1.0, abs=1e-6)
            assert all(0.0 <= v <= 1.0 for v in classes.values())
    quiet = write_audio(audio_dir / "flavor-silence.flac", silence(6.0, sr=SR), sr=SR, fmt="flac")
    assert analyze_file(quiet, {}, flavor=True).passages[0].flavor is None
    assert analyze_file(path, {}, flavor=False).passages[0].flavor is None


def test_no_classifier_names_are_borrowed(audio_dir: Path) -> None:
    """Only our own characteristic names: never AcousticBrainz's classifiers with invented values."""
    path = write_audio(audio_dir / "names.flac", progression(C_MAJOR), sr=SR, fmt="flac")
    vector = flavor_of(path)["vector"]
    assert set(vector) == {"pitch_class_profile", "spectral_balance"}


@pytest.mark.parametrize("when", ["set-up", "mid-stream"])
def test_when_essentia_fails_the_file_goes_on_without_flavor(
    when: str, audio_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Essentia raising (at set-up, or in the middle of the stream) costs the flavor, nothing else."""
    import essentia.common

    from wkmp_ai.audio.flavor import _WindowAnalyzer

    real = essentia.common.convertData
    calls = {"n": 0}

    def counting(data, goal):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return real(data, goal)

    monkeypatch.setattr(essentia.common, "convertData", counting)
    _WindowAnalyzer()
    setup_calls = calls["n"]
    # Mid-stream: set-up goes through; the first analysis window (30 s into the 32 s file) fails.
    fail_after = 0 if when == "set-up" else setup_calls
    calls["n"] = 0

    def failing(data, goal):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > fail_after:
            raise RuntimeError("injected Essentia failure")
        return real(data, goal)

    path = write_audio(audio_dir / "flavor-fails.flac", progression(C_MAJOR), sr=SR, fmt="flac")
    monkeypatch.setattr(essentia.common, "convertData", failing)
    result = analyze_file(path, {}, flavor=True)
    (passage,) = result.passages
    assert passage.flavor is None and passage.fingerprint
    (warning,) = result.warnings
    assert warning.code.value == "FLAVOR_FAILED" and "injected" in warning.message
