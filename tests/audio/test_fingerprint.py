"""Fingerprints must be the ones ``fpcalc`` computes on the same audio (≥ 99 % of bits identical).

``fpcalc`` (Debian libchromaprint-tools) is used here only, as the reference; it exits 3 when a file
is shorter than ``-length``, so it is always given a length that fits.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from tests.audio.conftest import three_songs
from tests.synth import FORMATS, concat, music_like, silence, write_audio
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.audio.chromaprint import Fingerprinter, encode, fingerprint_pcm, items_for_samples
from wkmp_ai.audio.decode import frames_per_block, open_audio

pytestmark = pytest.mark.skipif(shutil.which("fpcalc") is None, reason="fpcalc (libchromaprint-tools) not installed")


def fpcalc(path: Path, length: int, *, raw: bool = True) -> tuple[np.ndarray, str]:
    args = ["fpcalc", "-length", str(length), *(["-raw"] if raw else []), str(path)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    value = out.split("FINGERPRINT=")[1].strip()
    if not raw:
        return np.zeros(0, np.uint32), value
    return np.array([int(v) for v in value.split(",")], dtype=np.uint32), value


def same_bits(ours: np.ndarray | tuple[int, ...], ref: np.ndarray) -> float:
    ours = np.asarray(ours, dtype=np.uint32)
    n = min(len(ours), len(ref))
    assert n > 0
    differing = np.unpackbits(np.bitwise_xor(ours[:n], ref[:n]).view(np.uint8)).sum()
    return 1.0 - differing / (32 * n)


def resampled(path: Path) -> np.ndarray:
    """11025 Hz mono s16 PCM of the whole of ``path``, made block by block as the analysis makes it."""
    with open_audio(path) as audio:
        parts = [audio.fingerprint_samples(block) for block in audio.blocks()]
    assert [index for index, _ in parts] == list(np.cumsum([0] + [len(pcm) for _, pcm in parts[:-1]]))
    return np.concatenate([pcm for _, pcm in parts])


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "ogg", "opus", "m4a"])
def test_single_passage_matches_fpcalc(fmt: str, audio_dir: Path) -> None:
    sr = 48000 if fmt == "opus" else 44100
    path = write_audio(audio_dir / f"fp{FORMATS[fmt].suffix}", music_like(40.0, sr=sr, seed=21), sr=sr, fmt=fmt)
    result = analyze_file(path, {}, flavor=False)
    (passage,) = result.passages
    ref, _ = fpcalc(path, 39)
    assert same_bits(passage.fingerprint_raw, ref) >= 0.99
    assert passage.fingerprint.startswith("AQA")  # algorithm 1 (TEST2); the next bytes hold the length
    assert passage.fingerprint_duration_s == pytest.approx(result.duration_s, abs=0.01)


def test_long_passage_uses_the_first_120_seconds_and_the_string_is_fpcalcs(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "long.flac", music_like(150.0, sr=44100, seed=22), sr=44100, fmt="flac")
    (passage,) = analyze_file(path, {}, flavor=False).passages
    assert passage.fingerprint_duration_s == 120.0
    ref, _ = fpcalc(path, 120)
    assert same_bits(passage.fingerprint_raw, ref) == 1.0
    assert len(passage.fingerprint_raw) == len(ref)
    _, ref_string = fpcalc(path, 120, raw=False)
    assert passage.fingerprint == ref_string
    assert passage.fingerprint.startswith("AQAD")  # TEST-031's prefix: algorithm 1, ~950 items


def two_songs_in_one_block(sr: int) -> np.ndarray:
    """Both boundaries of the first passage become certain while one decode block is analysed."""
    song = [music_like(4.0, sr=sr, seed=s) for s in (4, 5)]
    return concat(silence(0.5, sr=sr), song[0], silence(2.0, sr=sr), song[1], silence(0.5, sr=sr))


@pytest.mark.parametrize("songs", [three_songs, two_songs_in_one_block])
@pytest.mark.parametrize("flavor", [False, True])
def test_each_passage_matches_fpcalc_on_that_passage_cut_out(
    songs: Callable[[int], np.ndarray], flavor: bool, audio_dir: Path
) -> None:
    sr = 44100
    signal = songs(sr)
    path = write_audio(audio_dir / f"{songs.__name__}.flac", signal, sr=sr, fmt="flac")
    result = analyze_file(path, {}, flavor=flavor)
    assert len(result.passages) == (3 if songs is three_songs else 2)
    if songs is two_songs_in_one_block:
        assert len(signal) < frames_per_block(2)
    with av.open(str(path)) as container:
        samples = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    for index, passage in enumerate(result.passages):
        a, b = round(passage.start_s * sr), round(passage.end_s * sr)
        piece = samples.reshape(-1, 2)[a:b] / 32768.0
        cut = write_audio(audio_dir / f"cut-{index}.wav", piece.astype(np.float32), sr=sr, fmt="wav")
        ref, _ = fpcalc(cut, math.floor(passage.end_s - passage.start_s) - 1)
        assert same_bits(passage.fingerprint_raw, ref) >= 0.99, index
    # Different songs, different fingerprints: the check above is not passing by accident.
    raws = [p.fingerprint_raw for p in result.passages]
    assert same_bits(raws[0], np.asarray(raws[1], np.uint32)) < 0.9


def test_fingerprints_are_deterministic(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "det.ogg", music_like(20.0, sr=44100, seed=23), sr=44100, fmt="ogg")
    first = analyze_file(path, {}, flavor=False).passages[0].fingerprint
    second = analyze_file(path, {}, flavor=False).passages[0].fingerprint
    assert first and first == second


def test_item_count_and_prefix_property() -> None:
    """Items of a prefix are a prefix of the items; their count follows items_for_samples."""
    rng = np.random.default_rng(5)
    pcm = (music_like(30.0, sr=11025, seed=24, channels=1)[:, 0] * 32767).astype(np.int16)
    pcm = pcm + rng.integers(-3, 4, len(pcm)).astype(np.int16)
    _, whole = fingerprint_pcm(pcm)
    assert len(whole) == items_for_samples(len(pcm))
    for n in (4095, 4096, 4096 + 1365 * 19, 11025 * 5 + 17, 11025 * 12):
        _, part = fingerprint_pcm(pcm[:n])
        assert len(part) == items_for_samples(n)
        assert np.array_equal(part, whole[: len(part)])


def test_encode_matches_the_library_and_contexts_are_independent() -> None:
    pcm = (music_like(15.0, sr=11025, seed=25, channels=1)[:, 0] * 32767).astype(np.int16)
    first, second = Fingerprinter(), Fingerprinter()
    first.feed(pcm)
    second.feed(pcm[:5000])
    second.feed(pcm[5000:])
    raw_a, raw_b = first.finish(), second.finish()
    assert np.array_equal(raw_a, raw_b)
    encoded, raw = fingerprint_pcm(pcm)
    assert encode(raw) == encoded and encoded.startswith("AQA")


@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
def test_our_resampling_is_fpcalcs(fmt: str, audio_dir: Path) -> None:
    """Our 11025 Hz stream of a whole file (made block by block, as the analysis makes it)
    fingerprints exactly like fpcalc."""
    path = write_audio(audio_dir / f"rs.{fmt}", music_like(20.0, sr=44100, seed=26), sr=44100, fmt=fmt)
    _, raw = fingerprint_pcm(resampled(path))
    ref, _ = fpcalc(path, 19)
    assert same_bits(raw, ref) == 1.0


def test_the_system_resampler_fpcalc_uses_is_loaded() -> None:
    """scripts/install.sh installs libswresample4; without it fingerprints of FLAC/WAV drift from fpcalc's."""
    from wkmp_ai.audio import swresample

    assert swresample.available()
