"""Album rips: passages from the rip's own index (cue sheet, CUESHEET tag or block, chapters), tick-exact.

The audio is a gapless "album": three pieces of music_like with no silence between them, so
silence segmentation sees one passage; the index says where the tracks start, at positions that
are not silences and not whole seconds.
"""

from __future__ import annotations

import itertools
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from mutagen.flac import FLAC, CueSheet, CueSheetTrack, CueSheetTrackIndex

from tests.synth import concat, music_like, silence, tone, write_audio
from wkmp_ai.audio import analyze_file
from wkmp_ai.errors import ErrorCode
from wkmp_ai.ingest.ripindex import disc_toc
from wkmp_ai.records.trackindex import TICKS_PER_FRAME
from wkmp_ai.scan.findindex import find_track_index
from wkmp_ai.ticks import TICKS_PER_SECOND, seconds_to_ticks

SR = 44100
# Track 2 starts at 00:20:33, track 3 at 00:41:07 (CD frames: 1/75 s).
FRAMES = [0, 20 * 75 + 33, 41 * 75 + 7]
LENGTH_S = 60.0
CUE = """REM GENRE Ambient
REM DATE 2001
PERFORMER "The Gapless"
TITLE "No Silence Here"
FILE "{name}" WAVE
  TRACK 01 AUDIO
    TITLE "First Light"
    INDEX 01 00:00:00
  TRACK 02 AUDIO
    TITLE "Second Wind"
    PERFORMER "Guest Star"
{pregap2}    INDEX 01 00:20:33
  TRACK 03 AUDIO
    TITLE "Third Time"
    INDEX 01 00:41:07
"""


def gapless_album(sr: int = SR) -> np.ndarray:
    """Three tracks of music with no gap at the cue's positions (a live or classical rip)."""
    edges = [f * sr // 75 for f in FRAMES] + [round(LENGTH_S * sr)]
    parts = [music_like((b - a) / sr, sr=sr, seed=i + 1) for i, (a, b) in enumerate(itertools.pairwise(edges))]
    return concat(*parts)


@pytest.fixture(scope="module")
def album_flac(audio_dir: Path) -> Path:
    return write_audio(audio_dir / "gapless.flac", gapless_album(), sr=SR)


def _copy(src: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    dest.write_bytes(src.read_bytes())
    return dest


def _expected_ticks(total_s: float = LENGTH_S) -> list[tuple[int, int]]:
    starts = [0, FRAMES[1] * TICKS_PER_FRAME, FRAMES[2] * TICKS_PER_FRAME]
    return list(itertools.pairwise([*starts, round(total_s * TICKS_PER_SECOND)]))


def test_without_an_index_the_gapless_album_is_one_passage(album_flac: Path, tmp_path: Path) -> None:
    alone = _copy(album_flac, tmp_path, "alone.flac")
    result = analyze_file(alone, {}, flavor=False, find_index=find_track_index)
    assert len(result.passages) == 1 and result.track_index is None
    assert result.passages[0].import_metadata["segmentation"]["boundary_source"] == "silence"


def test_a_sidecar_cue_splits_a_gapless_album_at_exactly_its_ticks(album_flac: Path, tmp_path: Path) -> None:
    audio = _copy(album_flac, tmp_path, "Album.flac")
    (tmp_path / "Album.cue").write_text(CUE.format(name="Album.flac", pregap2=""), encoding="utf-8")
    result = analyze_file(audio, {}, flavor=False, find_index=find_track_index)
    assert [(p.start_ticks, p.end_ticks) for p in result.passages] == _expected_ticks()
    assert _expected_ticks()[1][0] == 1533 * 376_320  # 00:20:33 → 576,898,560 ticks
    assert result.track_index is not None and result.track_index.source == "cue"
    assert [t.title for t in result.track_index.tracks] == ["First Light", "Second Wind", "Third Time"]
    for i, p in enumerate(result.passages):
        seg = p.import_metadata["segmentation"]
        assert seg["boundary_source"] == "cue" and seg["track_number"] == i + 1 and seg["index_origin"] == "Album.cue"
        assert p.fingerprint is not None  # each track fingerprinted from its own start
    assert not [w for w in result.warnings if w.code is ErrorCode.CUE_SHEET_INVALID]
    # Each passage is fingerprinted as its own audio: the three differ.
    assert len({p.fingerprint for p in result.passages}) == 3


def test_pregaps_end_the_previous_track(album_flac: Path, tmp_path: Path) -> None:
    audio = _copy(album_flac, tmp_path, "Pregap.flac")
    cue = CUE.format(name="Pregap.wav", pregap2="    INDEX 00 00:18:00\n")
    (tmp_path / "Pregap.cue").write_text(cue, encoding="utf-8")
    result = analyze_file(audio, {}, flavor=False, find_index=find_track_index)
    # INDEX 00 at 18 s is still track 1's: the boundary is INDEX 01 (20:33).
    assert [(p.start_ticks, p.end_ticks) for p in result.passages] == _expected_ticks()
    assert result.track_index is not None and result.track_index.tracks[1].pregap_ticks == 18 * 75 * TICKS_PER_FRAME


def test_a_latin1_cue_for_the_wav_the_flac_was_made_from(album_flac: Path, tmp_path: Path) -> None:
    audio = _copy(album_flac, tmp_path, "Café.flac")
    text = CUE.format(name="Café.wav", pregap2="").replace("First Light", "Première Lumière")
    (tmp_path / "Café.cue").write_bytes(text.encode("latin-1"))
    result = analyze_file(audio, {}, flavor=False, find_index=find_track_index)
    assert [(p.start_ticks, p.end_ticks) for p in result.passages] == _expected_ticks()
    assert result.track_index is not None and result.track_index.tracks[0].title == "Première Lumière"


def test_a_cue_naming_other_files_is_ignored(album_flac: Path, tmp_path: Path) -> None:
    audio = _copy(album_flac, tmp_path, "Mine.flac")
    (tmp_path / "Theirs.cue").write_text(CUE.format(name="Theirs.wav", pregap2=""), encoding="utf-8")
    result = analyze_file(audio, {}, flavor=False, find_index=find_track_index)
    assert len(result.passages) == 1 and result.track_index is None and not result.warnings


def test_an_embedded_cuesheet_tag_and_block(album_flac: Path, tmp_path: Path) -> None:
    tagged = _copy(album_flac, tmp_path, "tagged.flac")
    meta = FLAC(tagged)
    meta["CUESHEET"] = CUE.format(name="CDImage.wav", pregap2="")
    meta.save()
    result = analyze_file(tagged, {}, flavor=False, find_index=find_track_index)
    assert result.track_index is not None and result.track_index.source == "embedded_cue"
    assert [(p.start_ticks, p.end_ticks) for p in result.passages] == _expected_ticks()
    assert result.track_index.tracks[2].title == "Third Time"

    blocked = _copy(album_flac, tmp_path, "block.flac")
    meta = FLAC(blocked)
    sheet = CueSheet(None)
    sheet.compact_disc = True
    sheet.lead_in_samples = 88200
    for number, frames in enumerate(FRAMES, start=1):
        track = CueSheetTrack(number, frames * 588)
        track.indexes.append(CueSheetTrackIndex(1, 0))
        sheet.tracks.append(track)
    sheet.tracks.append(CueSheetTrack(170, round(LENGTH_S * SR)))
    meta.metadata_blocks.append(sheet)
    meta.save()
    result = analyze_file(blocked, {}, flavor=False, find_index=find_track_index)
    assert result.track_index is not None and result.track_index.source == "flac_cuesheet"
    assert [(p.start_ticks, p.end_ticks) for p in result.passages] == _expected_ticks()


def _with_chapters(path: Path, samples: np.ndarray, fmt: str, starts_s: list[Fraction]) -> Path:
    """Encode, then remux with chapters into ``path`` (MP4 or Matroska), as ``ffmpeg -map_chapters`` would."""
    plain = write_audio(path.with_name(f"plain-{path.name}.{fmt}"), samples, sr=SR, fmt=fmt)
    ends = [*starts_s[1:], Fraction(len(samples), SR)]
    chapters = [
        {"id": i + 1, "start": int(a * 1000), "end": int(b * 1000), "time_base": Fraction(1, 1000)}
        | {"metadata": {"title": f"Chapter {i + 1}"}}
        for i, (a, b) in enumerate(zip(starts_s, ends, strict=True))
    ]
    with av.open(str(plain)) as source, av.open(str(path), "w") as out:
        stream = out.add_stream_from_template(source.streams.audio[0])
        out.set_chapters(chapters)
        for packet in source.demux(source.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return path


@pytest.mark.parametrize(("suffix", "fmt"), [("m4a", "m4a"), ("mka", "flac")])
def test_chapters_in_mp4_and_matroska(tmp_path: Path, suffix: str, fmt: str) -> None:
    samples = gapless_album()[: 50 * SR]
    starts = [Fraction(0), Fraction(20), Fraction(41)]
    path = _with_chapters(tmp_path / f"book.{suffix}", samples, fmt, starts)
    result = analyze_file(path, {}, flavor=False, find_index=find_track_index)
    assert result.track_index is not None and result.track_index.source == "chapters"
    assert [p.start_ticks for p in result.passages] == [0, 20 * TICKS_PER_SECOND, 41 * TICKS_PER_SECOND]
    assert [t.title for t in result.track_index.tracks] == ["Chapter 1", "Chapter 2", "Chapter 3"]
    assert result.passages[-1].end_ticks == seconds_to_ticks(result.duration_s)
    assert all(p.import_metadata["segmentation"]["boundary_source"] == "chapters" for p in result.passages)


def test_a_broken_cue_is_a_warning_and_silences_decide(tmp_path: Path) -> None:
    song = music_like(8.0, sr=SR, seed=4)
    audio = write_audio(tmp_path / "Broken.flac", concat(song, silence(2.0, sr=SR), song), sr=SR)
    (tmp_path / "Broken.cue").write_text('FILE "Broken.flac" WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:99:00\n')
    result = analyze_file(audio, {}, flavor=False, find_index=find_track_index)
    assert len(result.passages) == 2 and result.track_index is None
    warning = next(w for w in result.warnings if w.code is ErrorCode.CUE_SHEET_INVALID)
    assert "Broken.cue" in warning.message and "out of range" in warning.message
    assert all(p.import_metadata["segmentation"]["boundary_source"] == "silence" for p in result.passages)


def test_a_cue_longer_than_the_audio_is_reported_and_ignored(tmp_path: Path) -> None:
    audio = write_audio(tmp_path / "Short.flac", tone(10.0, sr=SR), sr=SR)
    text = 'FILE "Short.flac" WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n TRACK 02 AUDIO\n  INDEX 01 04:00:00\n'
    (tmp_path / "Short.cue").write_text(text)
    result = analyze_file(audio, {}, flavor=False, find_index=find_track_index)
    assert len(result.passages) == 1 and result.track_index is None
    warning = next(w for w in result.warnings if w.code is ErrorCode.CUE_SHEET_INVALID)
    assert "track 2 starts at 240.00 s, but the audio lasts 10.00 s" in warning.message


def test_hostile_cue_files_never_stop_the_import(tmp_path: Path) -> None:
    audio = write_audio(tmp_path / "Hostile.flac", tone(6.0, sr=SR), sr=SR)
    (tmp_path / "Hostile.cue").write_bytes(bytes(range(256)) * 4000)  # binary and over the size limit
    result = analyze_file(audio, {}, flavor=False, find_index=find_track_index)
    assert len(result.passages) == 1
    assert any(w.code is ErrorCode.CUE_SHEET_INVALID and "Hostile.cue" in w.message for w in result.warnings)


def test_a_cue_of_two_files_splits_each_by_its_own_tracks(tmp_path: Path) -> None:
    a = write_audio(tmp_path / "Disc A.flac", concat(music_like(12.0, seed=1), music_like(12.0, seed=2)), sr=SR)
    b = write_audio(tmp_path / "Disc B.flac", concat(music_like(10.0, seed=3), music_like(10.0, seed=4)), sr=SR)
    (tmp_path / "Concert.cue").write_text(
        'FILE "Disc A.wav" WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n TRACK 02 AUDIO\n  INDEX 01 00:12:00\n'
        'FILE "Disc B.wav" WAVE\n TRACK 03 AUDIO\n  INDEX 01 00:00:00\n TRACK 04 AUDIO\n  INDEX 01 00:10:00\n'
    )
    first, second = (
        analyze_file(a, {}, flavor=False, find_index=find_track_index),
        analyze_file(b, {}, flavor=False, find_index=find_track_index),
    )
    assert [p.start_ticks for p in first.passages] == [0, 12 * TICKS_PER_SECOND]
    assert [p.start_ticks for p in second.passages] == [0, 10 * TICKS_PER_SECOND]
    assert [p.import_metadata["segmentation"]["track_number"] for p in second.passages] == [3, 4]
    assert disc_toc(first) is None and disc_toc(second) is None  # positions per file: no table of contents


def test_a_whole_disc_cue_gives_the_disc_its_table_of_contents(album_flac: Path, tmp_path: Path) -> None:
    audio = _copy(album_flac, tmp_path, "Disc.flac")
    (tmp_path / "Disc.cue").write_text(CUE.format(name="Disc.wav", pregap2=""), encoding="utf-8")
    toc = disc_toc(analyze_file(audio, {}, flavor=False, find_index=find_track_index))
    assert toc is not None and toc.toc_string == "1+3+4650+150+1683+3232"  # 60 s: lead-out 4500 + 150


def test_cue_sheets_that_are_links_or_fifos_are_not_read(album_flac: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "real.cue").write_text(CUE.format(name="Linked.flac", pregap2=""))
    folder = tmp_path / "album"
    audio = _copy(album_flac, folder, "Linked.flac")
    (folder / "Linked.cue").symlink_to(outside / "real.cue")
    os.mkfifo(folder / "Other.cue")  # opening it would block: it is never opened
    result = analyze_file(audio, {}, flavor=False, find_index=find_track_index)
    assert len(result.passages) == 1 and result.track_index is None
    assert any("Linked.cue is a symbolic link" in w.message for w in result.warnings)


def test_a_truncated_rip_whose_cue_no_longer_fits_falls_back_to_silences(album_flac: Path, tmp_path: Path) -> None:
    data = album_flac.read_bytes()
    audio = tmp_path / "Cut.flac"
    audio.write_bytes(data[: len(data) * 3 // 5])  # STREAMINFO still says 60 s; ~36 s decode
    (tmp_path / "Cut.cue").write_text(CUE.format(name="Cut.flac", pregap2=""), encoding="utf-8")
    result = analyze_file(audio, {}, flavor=False, find_index=find_track_index)
    assert result.duration_s < 41.0 and result.track_index is None
    assert [p.import_metadata["segmentation"]["boundary_source"] for p in result.passages] == ["silence"]
    unfit = [w.message for w in result.warnings if w.code is ErrorCode.CUE_SHEET_INVALID]
    assert len(unfit) == 1 and "track 3 starts at 41.09 s, but the audio lasts" in unfit[0]
    assert any(w.code is ErrorCode.PARTIAL_DECODE for w in result.warnings)
