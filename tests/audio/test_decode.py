"""The streaming decoder: every format we import, bounded blocks, and bad input that fails only with
our own error (or decodes what it can and says so)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.synth import FORMATS, music_like, tone, write_audio
from wkmp_ai.audio import avdecode
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.audio.decode import BLOCK_SAMPLES, frames_per_block, open_audio
from wkmp_ai.errors import ErrorCode, IngestError

ALL_FORMATS = sorted(FORMATS)


@pytest.fixture(autouse=True, params=["native", "pyav"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs twice: with our C decoder (scripts/install.sh builds it) and with
    PyAV's loop, which decodes when the C decoder is missing or will not open a file."""
    if request.param == "pyav":
        monkeypatch.setenv("WKMP_DECODER", "pyav")
    else:
        assert avdecode.available(), "the C decoder is not built: run scripts/install.sh"
    return str(request.param)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_every_format_decodes_to_its_length_and_level(fmt: str, audio_dir: Path) -> None:
    sr = 48000 if fmt == "opus" else 44100
    path = write_audio(audio_dir / f"dec-{fmt}{FORMATS[fmt].suffix}", tone(5.0, sr=sr, amplitude=0.5), sr=sr, fmt=fmt)
    with open_audio(path) as audio:
        assert (audio.info.sample_rate, audio.info.channels) == (sr, 2)
        blocks = list(audio.blocks())
    assert blocks[-1].final and not any(b.final for b in blocks[:-1])
    assert [b.start for b in blocks] == list(np.cumsum([0] + [b.frames for b in blocks[:-1]]))
    total = sum(b.frames for b in blocks)
    # Lossy codecs keep or lose a little of their priming; WMA's decoder drops ~37 ms (see segmentation).
    assert total / sr == pytest.approx(5.0, abs=0.05)
    peak = max(float(np.abs(b.pcm).max()) for b in blocks)
    assert peak == pytest.approx(0.5, abs=0.05 if FORMATS[fmt].codec in ("pcm_u8",) else 0.03)
    assert all(b.pcm.dtype == np.float32 and b.pcm.shape[0] == 2 for b in blocks)


def test_blocks_are_bounded_whatever_the_length(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "bounded.flac", music_like(12.0, sr=44100), sr=44100, fmt="flac")
    with open_audio(path) as audio:
        sizes = [b.frames for b in audio.blocks(block_frames=20000)]
    assert max(sizes) < 20000 + 4608  # a block ends at the first frame past the target
    assert sum(sizes) == 12 * 44100


def test_default_blocks_hold_about_a_million_samples_whatever_the_channels(audio_dir: Path) -> None:
    assert BLOCK_SAMPLES == 1 << 20  # 4 MB of float32 a block
    assert frames_per_block(1) == 1 << 20
    assert frames_per_block(2, 1024) == 1 << 19
    assert frames_per_block(6) == (1 << 20) // 6
    assert frames_per_block(6, 1024) == 170 * 1024  # whole hops, never more than the budget
    assert frames_per_block(8, 1 << 20) == 1 << 20  # at least one hop
    path = write_audio(audio_dir / "six.flac", music_like(25.0, sr=48000, channels=6, seed=4), sr=48000, fmt="flac")
    with open_audio(path) as audio:
        sizes = [b.frames for b in audio.blocks()]
    assert sum(sizes) == 25 * 48000
    assert len(sizes) == 7  # 1.2 M frames in blocks of 174,762
    assert max(sizes) * 6 <= BLOCK_SAMPLES + 6 * 4608


def test_surround_is_kept_and_fingerprinted(audio_dir: Path) -> None:
    signal = music_like(8.0, sr=48000, channels=6, seed=2)
    signal[:, 3] *= 0.1  # a quiet LFE
    path = write_audio(audio_dir / "surround.flac", signal, sr=48000, fmt="flac")
    result = analyze_file(path, {}, flavor=True)
    assert result.channels == 6
    (passage,) = result.passages
    assert passage.fingerprint and passage.flavor is not None


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.mp3", b""),
        ("text.flac", b"this is not audio at all\n" * 100),
        ("zeros.wav", bytes(4096)),
        ("riff-garbage.wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(2000)),
    ],
)
def test_non_audio_is_a_decode_error(name: str, content: bytes, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError) as info:
        analyze_file(path, {}, flavor=False)
    assert info.value.code is ErrorCode.DECODE_ERROR
    assert info.value.path == str(path)
    assert "[Errno" not in info.value.detail and " at 0x" not in info.value.detail  # plain words


def test_an_image_has_no_audio_stream(tmp_path: Path) -> None:
    path = tmp_path / "cover.mp3"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(path, format="PNG")
    with pytest.raises(IngestError) as info:
        analyze_file(path, {}, flavor=False)
    assert info.value.code is ErrorCode.DECODE_ERROR


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as info:
        analyze_file(tmp_path / "nope.flac", {}, flavor=False)
    assert info.value.code is ErrorCode.FILE_UNREADABLE
    with pytest.raises(IngestError) as info:
        analyze_file(tmp_path, {}, flavor=False)  # a folder
    assert info.value.code is ErrorCode.FILE_UNREADABLE


@pytest.mark.parametrize("fmt", ["flac", "mp3", "ogg", "m4a", "opus"])
def test_damage_in_the_middle_keeps_the_rest_and_says_so(fmt: str, audio_dir: Path) -> None:
    sr = 48000 if fmt == "opus" else 44100
    good = write_audio(audio_dir / f"good{FORMATS[fmt].suffix}", music_like(20.0, sr=sr, seed=1), sr=sr, fmt=fmt)
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20000] = np.random.default_rng(1).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    damaged = audio_dir / f"damaged{FORMATS[fmt].suffix}"
    damaged.write_bytes(bytes(data))
    result = analyze_file(damaged, {}, flavor=False)
    assert 14.0 < result.duration_s < 20.0  # audio after the damage was kept
    warning = next(w for w in result.warnings if w.code is ErrorCode.PARTIAL_DECODE)
    assert "damaged audio" in warning.message
    assert result.passages and result.passages[0].fingerprint


@pytest.mark.parametrize("fmt", ["flac", "mp3", "ogg", "opus", "wav"])
def test_a_truncated_file_decodes_what_is_there_and_says_so(fmt: str, audio_dir: Path) -> None:
    # FLAC and MP3 (Xing header) declare their length; an Ogg file ends inside a page; a WAV file's
    # data chunk declares more bytes than there are.
    sr = 48000 if fmt == "opus" else 44100
    good = write_audio(audio_dir / f"whole{FORMATS[fmt].suffix}", music_like(20.0, sr=sr, seed=1), sr=sr, fmt=fmt)
    cut = audio_dir / f"cut{FORMATS[fmt].suffix}"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    result = analyze_file(cut, {}, flavor=False)
    assert 8.0 < result.duration_s < 12.0
    assert any(w.code is ErrorCode.PARTIAL_DECODE for w in result.warnings)
    assert result.passages[0].end_s == pytest.approx(result.duration_s)


def test_mp4_without_its_index_cannot_be_decoded(audio_dir: Path) -> None:
    good = write_audio(audio_dir / "whole.m4a", music_like(10.0, sr=44100, seed=1), sr=44100, fmt="m4a")
    cut = audio_dir / "cut.m4a"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # the moov atom is at the end
    with pytest.raises(IngestError) as info:
        analyze_file(cut, {}, flavor=False)
    assert info.value.code is ErrorCode.DECODE_ERROR


def test_a_sample_rate_change_midstream_is_converted_not_a_crash(audio_dir: Path) -> None:
    """Two MP3s of different rates joined: the frames after the change are converted (they once
    made the FIFO raise "Frame does not match AudioFifo parameters", an ANALYSIS_FAILED)."""
    first = write_audio(audio_dir / "rate-a.mp3", music_like(6.0, sr=44100, seed=1), sr=44100, fmt="mp3")
    second = write_audio(audio_dir / "rate-b.mp3", music_like(6.0, sr=22050, seed=2), sr=22050, fmt="mp3")
    joined = audio_dir / "rate-joined.mp3"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    result = analyze_file(joined, {}, flavor=False)
    assert (result.sample_rate, result.duration_s) == (44100, pytest.approx(12.0, abs=0.1))
    (passage,) = result.passages
    assert passage.fingerprint


def test_damaged_mp3s_end_as_partial_decode_or_decode_error(audio_dir: Path) -> None:
    """Random damage in 40 copies: each is a PARTIAL_DECODE or a DECODE_ERROR, never anything else
    (two of these copies once raised ValueError from the FIFO)."""
    data = write_audio(audio_dir / "fuzz.mp3", music_like(10.0, sr=44100, seed=3), sr=44100, fmt="mp3").read_bytes()
    for seed in range(40):
        rng = np.random.default_rng(seed)
        damaged = bytearray(data)
        for _ in range(rng.integers(1, 6)):
            position, length = int(rng.integers(len(damaged) // 10, len(damaged))), int(rng.integers(1, 3000))
            damaged[position : position + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        path = audio_dir / f"fuzz-{seed}.mp3"
        path.write_bytes(bytes(damaged[: len(data)]))
        try:
            result = analyze_file(path, {}, flavor=False)
        except IngestError as exc:
            assert exc.code is ErrorCode.DECODE_ERROR, (seed, exc)
            continue
        warning = next(w for w in result.warnings if w.code is ErrorCode.PARTIAL_DECODE)
        assert "[Errno" not in warning.message, warning.message


def test_probe_errors_count_as_damage(audio_dir: Path) -> None:
    """Damage in the first pages of an Ogg file is met while FFmpeg probes the stream (its
    checksum error is logged then, not while decoding): still reported."""
    good = write_audio(audio_dir / "early.ogg", music_like(10.0, sr=44100, seed=3), sr=44100, fmt="ogg")
    data = bytearray(good.read_bytes())
    start = len(data) // 8
    data[start : start + 800] = np.random.default_rng(25).integers(0, 256, 800, dtype=np.uint8).tobytes()
    damaged = audio_dir / "early-damaged.ogg"
    damaged.write_bytes(bytes(data))
    result = analyze_file(damaged, {}, flavor=False)
    assert any(w.code is ErrorCode.PARTIAL_DECODE for w in result.warnings)
