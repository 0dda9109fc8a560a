"""Our C decoder (the system's FFmpeg) against PyAV's loop: the same blocks, samples and evidence.

tests/audio/test_decode.py runs every decoding test with each of them; here they are compared
with each other directly."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from tests.synth import FORMATS, music_like, write_audio
from wkmp_ai.audio import avdecode
from wkmp_ai.audio.decode import DecodeProblems, open_audio

# Integer PCM and MP3 decode to the same samples in both FFmpegs; AAC, Vorbis, Opus and WMA differ
# by a rounding (FFmpeg 5.1 beside PyAV's 8.1: at most 2.1e-7 measured on 3-minute tracks).
EXACT = {"wav", "wav24", "wav8", "flac", "flac24", "alac", "aiff", "mp3"}
LOSSY_TOLERANCE = 1e-6
BLOCK = 1 << 14  # small blocks: many boundaries, and frames split across them


@pytest.fixture(autouse=True)
def _built() -> None:
    assert avdecode.available(), "the C decoder is not built: run scripts/install.sh"


def _decode(path: Path, native: bool) -> tuple[list[tuple[int, int, str, bool]], np.ndarray, np.ndarray, str]:
    with open_audio(path, native=native) as audio:
        blocks = list(audio.blocks(block_frames=BLOCK))
        by = audio.decoded_by
    shapes = [(b.start, b.frames, b.fmt, b.final) for b in blocks]
    pcm = np.concatenate([b.pcm for b in blocks], axis=1)
    native_bytes = np.concatenate([b.native.reshape(-1).view(np.uint8) for b in blocks if b.frames])
    return shapes, pcm, native_bytes, by


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_c_decoder_gives_pyavs_blocks_and_samples(fmt: str, audio_dir: Path) -> None:
    sr = 48000 if fmt == "opus" else 44100
    path = write_audio(audio_dir / f"both-{fmt}{FORMATS[fmt].suffix}", music_like(7.0, sr=sr, seed=4), sr=sr, fmt=fmt)
    shapes_c, pcm_c, native_c, by_c = _decode(path, native=True)
    shapes_py, pcm_py, native_py, by_py = _decode(path, native=False)
    assert (by_c, by_py) == ("native", "pyav")
    assert shapes_c == shapes_py  # block starts, lengths, native formats, the final flag
    assert pcm_c.shape == pcm_py.shape and pcm_c.flags.c_contiguous
    if fmt in EXACT:
        assert np.array_equal(pcm_c, pcm_py)
        assert np.array_equal(native_c, native_py)
    else:
        assert float(np.max(np.abs(pcm_c - pcm_py))) <= LOSSY_TOLERANCE


def test_every_block_is_contiguous_with_its_own_arrays(audio_dir: Path) -> None:
    """Blocks may be kept by a consumer: no block's arrays are overwritten by the next block."""
    path = write_audio(audio_dir / "keep.flac", music_like(3.0, sr=44100, seed=5), sr=44100, fmt="flac")
    with open_audio(path) as audio:
        blocks = [(b, b.pcm.copy(), b.native.copy()) for b in audio.blocks(block_frames=BLOCK)]
    assert len(blocks) > 3
    for block, pcm, native in blocks:
        assert block.pcm.flags.c_contiguous and block.native.flags.c_contiguous
        assert np.array_equal(block.pcm, pcm) and np.array_equal(block.native, native)


def test_a_consumer_that_stops_early_closes_the_file(audio_dir: Path) -> None:
    path = write_audio(audio_dir / "early-stop.mp3", music_like(10.0, sr=44100, seed=6), sr=44100, fmt="mp3")
    for _ in range(50):  # 50 opens, each left after one block: no crash, no descriptor left open
        with open_audio(path) as audio:
            blocks = audio.blocks(block_frames=BLOCK)
            first = next(blocks)
            blocks.close()
        assert first.frames == BLOCK
    assert len(list(Path("/proc/self/fd").iterdir())) < 200


def _damaged_mp3(audio_dir: Path, name: str) -> Path:
    """Damage in the middle, met while decoding (nothing is logged while the file is probed)."""
    good = write_audio(audio_dir / f"{name}-good.mp3", music_like(20.0, sr=44100, seed=7), sr=44100, fmt="mp3")
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4000] = np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    damaged = audio_dir / f"{name}.mp3"
    damaged.write_bytes(bytes(data))
    return damaged


def _problems(path: Path) -> DecodeProblems:
    with open_audio(path) as audio:
        for _ in audio.blocks():
            pass
        assert audio.decoded_by == "native"
        return audio.problems


def test_each_thread_counts_only_the_damage_it_decodes(audio_dir: Path) -> None:
    """FFmpeg's log is process-wide; the C decoder counts a message for the thread that logged it."""
    damaged = _damaged_mp3(audio_dir, "threads")
    clean = write_audio(audio_dir / "threads-clean.mp3", music_like(20.0, sr=44100, seed=8), sr=44100, fmt="mp3")
    alone = _problems(damaged)
    assert alone.logged_errors > 0 and alone.first_logged_s is not None  # logged while decoding
    results: dict[str, list[DecodeProblems]] = {"damaged": [], "clean": []}

    def run(kind: str, path: Path) -> None:
        for _ in range(3):
            results[kind].append(_problems(path))

    threads = [threading.Thread(target=run, args=args) for args in (("damaged", damaged), ("clean", clean))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p.logged_errors for p in results["damaged"]] == [alone.logged_errors] * 3
    assert not any(results["clean"])


def test_the_damage_found_is_the_same_with_either_decoder(audio_dir: Path) -> None:
    damaged = _damaged_mp3(audio_dir, "either")
    native = _problems(damaged)
    with open_audio(damaged, native=False) as audio:
        for _ in audio.blocks():
            pass
        pyav = audio.problems
    assert native.bad_packets == pyav.bad_packets > 0
    assert native.logged_errors == pyav.logged_errors > 0
    assert native.first_logged == pyav.first_logged  # FFmpeg's own words: "Header missing"
    assert native.first_error_s == pytest.approx(pyav.first_error_s, abs=0.05)
    # PyAV's loop counts a logged message when its block is handed on; ours where it was logged.
    assert native.first_logged_s is not None and pyav.first_logged_s is not None
    assert native.first_logged_s <= pyav.first_logged_s
    expected = "2 packets could not be decoded, the first at 10.0 s (Header missing)"
    assert native.describe() == pyav.describe() == expected


def test_a_stream_the_system_ffmpeg_will_not_open_is_left_to_pyav_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_audio(tmp_path / "one.flac", music_like(2.0, sr=44100), sr=44100, fmt="flac")
    with caplog.at_level("INFO", logger="wkmp_ai.audio.avdecode"):
        assert avdecode.NativeStream.open(path, 3, 44100, 2, quick=False) is None  # it has one stream
    assert "the system's FFmpeg cannot open it; decoding it with PyAV's loop" in caplog.text
    stream = avdecode.NativeStream.open(path, 0, 44100, 2, quick=False)
    assert stream is not None
    stream.close()
