"""MusicBrainz Disc IDs: the algorithm's published reference values, and a cue sheet's table of contents."""

from __future__ import annotations

import pytest

from wkmp_ai.identify.discid import DiscToc, disc_id, toc_from_index
from wkmp_ai.records.trackindex import TICKS_PER_FRAME, index_from_chapters
from wkmp_ai.scan.cuesheet import parse_cue, tracks_for_file

# libdiscid's own test (test/test_put.c): Dark Tranquillity, "Fiction", 10 tracks.
FICTION_OFFSETS = (150, 18901, 39738, 59557, 79152, 100126, 124833, 147278, 166336, 182560)
FICTION_LEAD_OUT = 206535
FICTION_ID = "Wn8eRBtfLDfM0qjYPdxrz.Zjs_U-"


def test_libdiscid_reference_disc() -> None:
    assert disc_id(1, 10, FICTION_LEAD_OUT, FICTION_OFFSETS) == FICTION_ID


def test_cdtoc_reference_disc() -> None:
    # The CDTOC tag "4+96+2D2B+6256+B327+D84A" (hex track offsets, then the lead-out).
    assert disc_id(1, 4, 0xD84A, (0x96, 0x2D2B, 0x6256, 0xB327)) == "nljDXdC8B_pDwbdY1vZJvdrAZI4-"


def test_a_cue_sheet_of_the_whole_disc_gives_its_disc_id_and_toc() -> None:
    lines = ['PERFORMER "Dark Tranquillity"', 'TITLE "Fiction"', 'FILE "Fiction.flac" WAVE']
    for number, offset in enumerate(FICTION_OFFSETS, start=1):
        frames = offset - 150
        mm, rest = divmod(frames, 75 * 60)
        ss, ff = divmod(rest, 75)
        lines += [f"  TRACK {number:02d} AUDIO", f"    INDEX 01 {mm:02d}:{ss:02d}:{ff:02d}"]
    index = tracks_for_file(parse_cue("\n".join(lines).encode()), 0)
    total_ticks = (FICTION_LEAD_OUT - 150) * TICKS_PER_FRAME + 587 * 640  # a partial last frame does not count
    toc = toc_from_index(index, total_ticks)
    assert isinstance(toc, DiscToc)
    assert toc.disc_id == FICTION_ID
    assert toc.toc_string == "1+10+206535+" + "+".join(map(str, FICTION_OFFSETS))
    assert toc.track_frames()[0] == 18901 - 150 and sum(toc.track_frames()) == FICTION_LEAD_OUT - 150


def test_no_disc_id_without_a_whole_disc_layout() -> None:
    chapters = index_from_chapters([(0, "a"), (100 * 75 * TICKS_PER_FRAME, "b")])
    assert toc_from_index(chapters, 300 * 75 * TICKS_PER_FRAME) is None
    text = b'FILE "a.wav" WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n TRACK 02 MODE1/2352\n  INDEX 01 01:00:00\n'
    assert toc_from_index(tracks_for_file(parse_cue(text), 0), 200 * 75 * TICKS_PER_FRAME) is None  # enhanced CD


@pytest.mark.parametrize(("first", "last", "offsets"), [(0, 1, (150, 200)), (1, 2, (150,)), (5, 3, ())])
def test_an_impossible_table_of_contents_is_refused(first: int, last: int, offsets: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="table of contents"):
        disc_id(first, last, 1000, offsets)
