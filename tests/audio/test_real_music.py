"""Real recorded music (Debian's game soundtracks, see ``tests/realmusic.py``), not generated signals.

A handful of tracks, as shipped (Ogg Vorbis from libvorbis) and transcoded with PyAV to FLAC, MP3,
AAC, Opus, Vorbis and WAV: no damage warning on any intact file, one passage per track tiling the
file exactly in ticks, fingerprints equal to ``fpcalc -length 120``; three tracks joined by 2 s of
digital silence split at the silences; truncated and corrupted copies still reported. The whole
corpus (24 tracks × 7 forms) is counted by ``benchmarks/bench_real_music.py``.
"""

from __future__ import annotations

import itertools
import multiprocessing
import shutil
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import av
import numpy as np
import pytest

from tests.realmusic import TRANSCODES, CorpusUnavailable, corpus, join_with_silence, transcode
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.errors import ErrorCode, IngestError
from wkmp_ai.records.analysis import FileAnalysis
from wkmp_ai.ticks import seconds_to_ticks

pytestmark = pytest.mark.skipif(shutil.which("fpcalc") is None, reason="fpcalc (libchromaprint-tools) not installed")

# Three tracks without a silence inside them (so each is one passage): 43 s, 104 s and 144 s;
# two at 48 kHz, one at 44.1 kHz; all with quiet starts and ends of their own.
TRACKS = (
    "singularity-music/usr/share/games/singularity/music/lose/Chimes They Fade.ogg",
    "singularity-music/usr/share/games/singularity/music/win/Apex Aleph.ogg",
    "fretsonfire-songs-sectoid/usr/share/games/fretsonfire/data/songs/sectoid/Metal madness/song.ogg",
)
FORMATS = ("original", *TRANSCODES)


@pytest.fixture(scope="session")
def music() -> Path:
    try:
        return corpus()
    except CorpusUnavailable as exc:
        pytest.skip(f"real-music corpus unavailable (the Debian package registry could not be used): {exc}")


@pytest.fixture(scope="session")
def files(music: Path) -> dict[tuple[str, int], Path]:
    """(format, track index) → file; transcodes made on two cores and cached across runs."""
    originals = [music / track for track in TRACKS]
    out = {("original", i): path for i, path in enumerate(originals)}
    jobs = [(fmt, i) for fmt in TRANSCODES for i in range(len(originals))]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        paths = pool.map(transcode, [originals[i] for _, i in jobs], [fmt for fmt, _ in jobs], [music] * len(jobs))
        out.update(zip(jobs, paths, strict=True))
    return out


@pytest.fixture(scope="session")
def analyses(files: dict[tuple[str, int], Path]) -> dict[tuple[str, int], FileAnalysis]:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        results = pool.map(_analyse, list(files.values()))
        return dict(zip(files, results, strict=True))


def _analyse(path: Path) -> FileAnalysis:
    return analyze_file(path, {}, flavor=False)


def _quiet_ends(path: Path, threshold_db: float = -60.0) -> tuple[float, float]:
    """Seconds of quiet at the start and at the end of a track: 10 ms windows in which every
    channel's RMS is below ``threshold_db`` dBFS (the silence rule of docs/audio.md, computed
    here directly on the decoded samples)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        pcm = np.concatenate(
            [f.to_ndarray().reshape(stream.codec_context.channels, -1) for f in container.decode(stream)], axis=1
        )
    hop = rate // 100
    hops = pcm.shape[1] // hop
    rms = np.sqrt((pcm[:, : hops * hop].reshape(pcm.shape[0], hops, hop).astype(np.float64) ** 2).mean(axis=2)).max(
        axis=0
    )
    loud = np.flatnonzero(rms >= 10 ** (threshold_db / 20))
    return loud[0] * hop / rate, (pcm.shape[1] - (loud[-1] + 1) * hop) / rate


def fpcalc(path: Path, *, raw: bool = False) -> str:
    """``fpcalc -length 120``'s fingerprint. It exits 3 when decoding stopped on an error (FFmpeg's
    end-of-file on some FLAC files) yet prints the fingerprint of what it read: that is accepted."""
    args = ["fpcalc", "-length", "120", *(["-raw"] if raw else []), str(path)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode in (0, 3), out.stderr
    return out.stdout.split("FINGERPRINT=")[1].strip()


@pytest.mark.parametrize("fmt", FORMATS)
def test_intact_tracks_one_passage_tiling_the_file_no_damage(
    fmt: str, analyses: dict[tuple[str, int], FileAnalysis]
) -> None:
    for index in range(len(TRACKS)):
        result = analyses[(fmt, index)]
        original = analyses[("original", index)]
        codes = {w.code for w in result.warnings}
        assert ErrorCode.PARTIAL_DECODE not in codes, (fmt, index, result.warnings)
        (passage,) = result.passages
        assert passage.start_ticks == 0
        assert passage.end_ticks == seconds_to_ticks(result.duration_s)
        assert passage.end_s == result.duration_s
        # The decoded end is the file's: every transcode is as long as its source but for codec padding.
        assert result.duration_s == pytest.approx(original.duration_s, abs=0.03), (fmt, index)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "ogg"])
def test_fingerprints_are_fpcalcs(
    fmt: str, files: dict[tuple[str, int], Path], analyses: dict[tuple[str, int], FileAnalysis]
) -> None:
    for index in range(len(TRACKS)):
        (passage,) = analyses[(fmt, index)].passages
        assert passage.fingerprint == fpcalc(files[(fmt, index)]), (fmt, index)


def test_fingerprints_of_ffmpegs_own_vorbis_within_a_decoder_difference(
    files: dict[tuple[str, int], Path], analyses: dict[tuple[str, int], FileAnalysis]
) -> None:
    """FFmpeg's experimental Vorbis encoder (the only one PyAV has) writes streams that Debian's
    FFmpeg 5.1, which ``fpcalc`` uses, and PyAV's FFmpeg 8 decode to different samples (up to 0.34
    apart after the first 7,572): the fingerprints can only be close. Libvorbis files (the
    originals) decode identically and are compared exactly above."""
    for index in range(len(TRACKS)):
        (passage,) = analyses[("ogg", index)].passages
        ref = np.array([int(v) for v in fpcalc(files[("ogg", index)], raw=True).split(",")], np.uint32)
        ours = np.asarray(passage.fingerprint_raw, np.uint32)
        assert len(ours) == len(ref)
        same = 1 - np.unpackbits(np.bitwise_xor(ours, ref).view(np.uint8)).mean()
        assert same >= 0.97, (index, same)


def test_an_album_rip_splits_into_its_tracks_at_the_silences(
    music: Path, analyses: dict[tuple[str, int], FileAnalysis], tmp_path: Path
) -> None:
    rip = tmp_path / "album.flac"
    starts = join_with_silence([music / track for track in TRACKS], 2.0, rip)
    result = analyze_file(rip, {}, flavor=False)
    assert not result.warnings or {w.code for w in result.warnings} <= {ErrorCode.CLIPPING_DETECTED}
    assert len(result.passages) == len(TRACKS)
    passages = result.passages
    assert passages[0].start_ticks == 0 and passages[-1].end_ticks == seconds_to_ticks(result.duration_s)
    assert all(a.end_ticks == b.start_ticks for a, b in itertools.pairwise(passages))
    # Each boundary lies in the quiet span between two songs: from where the sound of one ends
    # (its own quiet tail, measured on the track alone) to where the next one's starts. As a
    # midpoint, it sits in the middle of that span, within a hop of each edge (±0.02 s).
    quiet = [_quiet_ends(music / track) for track in TRACKS]
    for i, boundary in enumerate(p.start_s for p in passages[1:]):
        track_end = starts[i + 1] - 2.0
        quiet_from = track_end - quiet[i][1]
        quiet_to = starts[i + 1] + quiet[i + 1][0]
        assert quiet_from <= boundary <= quiet_to, (i, boundary, quiet_from, quiet_to)
        assert boundary == pytest.approx((quiet_from + quiet_to) / 2, abs=0.02)
        # what was quiet before the song is the next passage's lead-in
        assert passages[i + 1].lead_in_s >= quiet_to - boundary - 0.02
    assert len({p.fingerprint for p in passages}) == len(TRACKS) and all(p.fingerprint for p in passages)


@pytest.mark.parametrize("fmt", ["original", "flac", "mp3", "opus", "wav", "m4a"])
def test_a_truncated_copy_is_reported(fmt: str, files: dict[tuple[str, int], Path], tmp_path: Path) -> None:
    whole = files[(fmt, 1)]
    cut = tmp_path / f"cut{whole.suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])
    try:
        result = analyze_file(cut, {}, flavor=False)
    except IngestError as exc:  # an MP4 cut before its index (at the end) holds nothing decodable
        assert fmt == "m4a" and exc.code is ErrorCode.DECODE_ERROR, exc
        assert "[Errno" not in exc.detail and "0x" not in exc.detail
        return
    (warning,) = [w for w in result.warnings if w.code is ErrorCode.PARTIAL_DECODE]
    assert "truncated" in warning.message or "could not be decoded" in warning.message, warning.message
    assert "[Errno" not in warning.message and "0x" not in warning.message
    assert result.passages[-1].end_ticks == seconds_to_ticks(result.duration_s)


@pytest.mark.parametrize("fmt", ["original", "flac", "mp3", "opus", "m4a"])
def test_a_corrupted_copy_is_reported(fmt: str, files: dict[tuple[str, int], Path], tmp_path: Path) -> None:
    whole = files[(fmt, 1)]
    damaged = tmp_path / f"damaged{whole.suffix}"
    data = bytearray(whole.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20000] = np.random.default_rng(7).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    damaged.write_bytes(bytes(data))
    result = analyze_file(damaged, {}, flavor=False)
    (warning,) = [w for w in result.warnings if w.code is ErrorCode.PARTIAL_DECODE]
    assert warning.message.startswith("damaged audio: ")
    assert "[Errno" not in warning.message and "0x" not in warning.message
    assert result.duration_s > 50  # what follows the damage was kept
