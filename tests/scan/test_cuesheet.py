"""Cue sheets and track indexes: parsing in every encoding rippers use, hostile text, FLAC CUESHEET blocks."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from mutagen.flac import FLAC, CueSheet, CueSheetTrack, CueSheetTrackIndex

from tests.synth import silence, write_audio
from wkmp_ai.errors import ErrorCode, IngestError
from wkmp_ai.records.trackindex import (
    TICKS_PER_FRAME,
    TrackIndex,
    check_fits,
    index_from_chapters,
    index_from_flac_cuesheet,
)
from wkmp_ai.scan.cuesheet import MAX_CUE_BYTES, decode_cue_text, file_matches, parse_cue, tracks_for_file
from wkmp_ai.ticks import TICKS_PER_SECOND

ALBUM = """REM GENRE "Progressive Rock"
REM DATE 1999
REM DISCID 830ABF0A
REM COMMENT "ExactAudioCopy v1.6"
CATALOG 0724384260910
PERFORMER "Dark Tranquillity"
TITLE "Fiction"
FILE "Fiction.wav" WAVE
  TRACK 01 AUDIO
    TITLE "Nothing to No One"
    INDEX 01 00:00:00
  TRACK 02 AUDIO
    TITLE "The Lesser Faith"
    PERFORMER "Guest"
    ISRC SEUM70700002
    INDEX 00 04:08:00
    INDEX 01 04:10:01
  TRACK 03 AUDIO
    TITLE "Terminus"
    INDEX 01 08:48:74
"""


def test_a_ripper_cue_sheet_gives_tracks_titles_and_exact_ticks() -> None:
    sheet = parse_cue(ALBUM.encode())
    assert sheet.title == "Fiction" and sheet.performer == "Dark Tranquillity"
    assert sheet.catalog == "0724384260910"
    assert sheet.rem_value("DATE") == "1999" and sheet.rem_value("GENRE") == "Progressive Rock"
    assert [f.name for f in sheet.files] == ["Fiction.wav"] and sheet.files[0].type == "WAVE"
    index = tracks_for_file(sheet, 0, origin="Fiction.cue")
    assert [t.title for t in index.tracks] == ["Nothing to No One", "The Lesser Faith", "Terminus"]
    assert [t.performer for t in index.tracks] == ["Dark Tranquillity", "Guest", "Dark Tranquillity"]
    frames = [0, (4 * 60 + 10) * 75 + 1, (8 * 60 + 48) * 75 + 74]
    assert [t.start_frames for t in index.tracks] == frames
    assert [t.start_ticks for t in index.tracks] == [f * 376_320 for f in frames]
    assert index.tracks[1].pregap_ticks == (4 * 60 + 8) * 75 * TICKS_PER_FRAME
    assert index.tracks[1].isrc == "SEUM70700002"
    assert index.album == "Fiction" and index.date == "1999" and index.disc_layout


def test_one_frame_is_exactly_376320_ticks() -> None:
    assert TICKS_PER_FRAME * 75 == TICKS_PER_SECOND == 28_224_000
    assert TICKS_PER_FRAME == 376_320


@pytest.mark.parametrize(
    ("encode", "title"),
    [
        (lambda t: t.encode("utf-8"), "Café Ünïcode ☂"),
        (lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), "Café Ünïcode ☂"),
        (lambda t: t.encode("utf-16"), "Café Ünïcode ☂"),
        (lambda t: t.encode("latin-1"), "Café Ünïcode"),
        (lambda t: t.encode("cp1252"), "Don’t – Stop €"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "latin1", "cp1252"],
)
def test_every_encoding_rippers_write_reads_back_the_same_title(encode, title: str) -> None:
    text = (
        f'TITLE "{title}"\r\nFILE "a.wav" WAVE\r\n  TRACK 01 AUDIO\r\n    TITLE "{title}"\r\n    INDEX 01 00:00:00\r\n'
    )
    sheet = parse_cue(encode(text))
    assert sheet.title == title and sheet.tracks[0].title == title


def test_several_files_each_keep_their_own_tracks_and_pregaps_stay_in_their_file() -> None:
    text = """FILE "01 One.flac" WAVE
  TRACK 01 AUDIO
    TITLE "One"
    INDEX 01 00:00:00
  TRACK 02 AUDIO
    TITLE "Two"
    INDEX 00 03:00:00
FILE "02 Two.flac" WAVE
    INDEX 01 00:00:00
  TRACK 03 AUDIO
    TITLE "Three"
    INDEX 01 02:30:00
"""
    sheet = parse_cue(text.encode())
    assert file_matches(sheet, "01 One.flac") == 0 and file_matches(sheet, "02 Two.flac") == 1
    first = tracks_for_file(sheet, 0)
    second = tracks_for_file(sheet, 1)
    assert [t.number for t in first.tracks] == [1]
    # Track 2's pregap sits at the end of the first file; its start is the second file's beginning.
    assert [(t.number, t.start_ticks, t.pregap_ticks) for t in second.tracks] == [
        (2, 0, None),
        (3, 150 * 75 * TICKS_PER_FRAME, None),
    ]
    assert not second.disc_layout  # positions are per file: no whole-disc table of contents


def test_which_file_a_cue_sheet_describes() -> None:
    sheet = parse_cue(b'FILE "Album.wav" WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n')
    assert file_matches(sheet, "Album.wav") == 0
    assert file_matches(sheet, "album.WAV") == 0
    assert file_matches(sheet, "Album.flac") == 0  # the cue was written for the WAV it was made from
    assert file_matches(sheet, "Other.flac") is None
    assert file_matches(sheet, "Renamed.flac", cue_name="Renamed.cue") == 0
    assert file_matches(sheet, "Renamed.flac", cue_name="Other.cue") is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('FILE "a.wav" WAVE\n TRACK 01 AUDIO\n  INDEX 01 03:75:00\n', "line 3: the time 03:75:00 is out of range"),
        ('FILE "a.wav" WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:61:00\n', "out of range"),
        ('FILE "a.wav" WAVE\n TRACK 01 AUDIO\n  INDEX 01 9999:00:00\n', "longer than a day"),
        ('FILE "a.wav" WAVE\n TRACK 01 AUDIO\n  INDEX 01 1:2\n', "is not a time in MM:SS:FF"),
        ("TRACK 01 AUDIO\n  INDEX 01 00:00:00\n", "comes before any FILE line"),
        ('FILE "a.wav" WAVE\n TRACK 02 AUDIO\n  INDEX 01 00:00:00\n TRACK 01 AUDIO\n', "comes after track 2"),
        ('FILE "a.wav" WAVE\n TRACK 100 AUDIO\n', "outside 1-99"),
        ('FILE "a.wav" WAVE\n TRACK 01 AUDIO\n TITLE "x"\n', "track 1 has no INDEX 01"),
        ('TITLE "nothing"\n', "lists no tracks"),
        (
            'FILE "a.wav" WAVE\n TRACK 01 AUDIO\n  INDEX 01 02:00:00\n TRACK 02 AUDIO\n  INDEX 01 01:00:00\n',
            "goes back in time",
        ),
    ],
)
def test_a_broken_cue_sheet_is_refused_in_plain_words(text: str, words: str) -> None:
    with pytest.raises(IngestError) as caught:
        parse_cue(text.encode(), origin="Music/x.cue")
    assert caught.value.code is ErrorCode.CUE_SHEET_INVALID
    assert words in caught.value.detail
    assert caught.value.path == "Music/x.cue"


def test_binary_and_huge_files_are_not_cue_sheets() -> None:
    with pytest.raises(IngestError, match="binary data"):
        decode_cue_text(bytes(range(256)) * 20)
    with pytest.raises(IngestError, match="more than a cue sheet can be"):
        decode_cue_text(b"REM " + b"x" * MAX_CUE_BYTES)
    with pytest.raises(IngestError, match="too many unknown lines"):
        parse_cue(b"\n".join([b"JUNK line"] * 1500))


def test_rem_and_unknown_commands_are_kept_or_ignored_not_fatal() -> None:
    text = (
        'REM REPLAYGAIN_ALBUM_GAIN -7.10 dB\nCDTEXTFILE "x.cdt"\nFOO bar\nFILE "a.wav" WAVE\n TRACK 01 AUDIO\n'
        '  FLAGS DCP\n  REM COMPOSER "Bach"\n  PREGAP 00:02:00\n  INDEX 01 00:00:00\n'
    )
    sheet = parse_cue(text.encode())
    assert sheet.rem_value("REPLAYGAIN_ALBUM_GAIN") == "-7.10 dB"
    assert sheet.tracks[0].rem == (("COMPOSER", "Bach"),)
    assert sheet.ignored_lines == 1


def test_an_index_that_does_not_fit_the_audio_says_why() -> None:
    index = tracks_for_file(parse_cue(ALBUM.encode()), 0)
    minute = 60 * TICKS_PER_SECOND
    assert check_fits(index, 12 * minute) is None
    assert "track 3 starts at 528.99 s, but the audio lasts 300.00 s" in (check_fits(index, 5 * minute) or "")


def _flac_with_cuesheet(path: Path, starts: list[int], total: int, *, cd: bool = True) -> Path:
    write_audio(path, silence(0.1), sr=44100)  # a tiny FLAC; the block describes whatever we say
    audio = FLAC(path)
    sheet = CueSheet(None)
    sheet.media_catalog_number = b"1234567890123"
    sheet.lead_in_samples = 88200
    sheet.compact_disc = cd
    for number, start in enumerate(starts, start=1):
        track = CueSheetTrack(number, start, isrc=b"XXX000000001" if number == 1 else b"")
        if number > 1:
            track.indexes.append(CueSheetTrackIndex(0, 0))
            track.indexes.append(CueSheetTrackIndex(1, 588 * 75))  # two-second pregap
        else:
            track.indexes.append(CueSheetTrackIndex(1, 0))
        sheet.tracks.append(track)
    sheet.tracks.append(CueSheetTrack(170, total))
    audio.metadata_blocks.append(sheet)
    audio.save()
    return path


def test_a_flac_cuesheet_block_gives_sample_exact_ticks_and_its_lead_out(tmp_path: Path) -> None:
    starts = [0, 588 * 1000, 588 * 5000]
    path = _flac_with_cuesheet(tmp_path / "album.flac", starts, 588 * 9000)
    block = next(b for b in FLAC(path).metadata_blocks if isinstance(b, CueSheet))
    index = index_from_flac_cuesheet(block, 44100, origin="album.flac")
    assert index.source == "flac_cuesheet" and index.disc_layout and index.catalog == "1234567890123"
    expected = [0, 588 * 1075, 588 * 5075]  # index 01 sits two seconds into tracks 2 and 3
    assert [t.start_ticks for t in index.tracks] == [s * 640 for s in expected]
    assert [t.start_frames for t in index.tracks] == [s // 588 for s in expected]
    assert [t.pregap_ticks for t in index.tracks] == [None, 588 * 1000 * 640, 588 * 5000 * 640]
    assert index.tracks[0].isrc == "XXX000000001"
    assert index.declared_end_ticks == 588 * 9000 * 640
    assert check_fits(index, 588 * 9000 * 640) is None
    assert "declares 120.00 s of audio, but the file holds 60.00 s" in (check_fits(index, 60 * TICKS_PER_SECOND) or "")


def test_chapters_become_an_index_in_time_order() -> None:
    index = index_from_chapters([(90 * TICKS_PER_SECOND, "Second"), (0, "First")], origin="x.m4a")
    assert isinstance(index, TrackIndex) and index.source == "chapters"
    assert [(t.number, t.start_ticks, t.title) for t in index.tracks] == [(1, 0, "First"), (2, 2_540_160_000, "Second")]
    assert not index.disc_layout
