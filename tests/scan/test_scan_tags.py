"""Tags in every tag format, written by mutagen onto real encoded files; hostile files."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest
from mutagen.apev2 import APEv2
from mutagen.asf import ASF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK, TXXX, TYER, UFID
from mutagen.mp4 import MP4, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from tests.scan.extra_audio import encode
from wkmp_ai.errors import ErrorCode
from wkmp_ai.records.scan import Tags
from wkmp_ai.scan.tags import read_tags, read_tags_and_picture

REC = "0b6c5d3e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"
REL = "1a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c8d"
ART1 = "aaaaaaaa-1111-4222-8333-444444444444"
ART2 = "bbbbbbbb-1111-4222-8333-444444444444"
ALBART = "cccccccc-1111-4222-8333-444444444444"


def id3_picard(tags: ID3) -> None:
    tags.add(TIT2(encoding=3, text="Title ✓"))
    tags.add(TPE1(encoding=3, text=["Artist One", "Artist Two"]))
    tags.add(TALB(encoding=3, text="Album"))
    tags.add(TPE2(encoding=3, text="Album Artist"))
    tags.add(TRCK(encoding=3, text="3/12"))
    tags.add(TPOS(encoding=3, text="1/2"))
    tags.add(TCON(encoding=3, text="(17)"))
    tags.add(UFID(owner="http://musicbrainz.org", data=REC.encode()))
    tags.add(TXXX(encoding=3, desc="MusicBrainz Album Id", text=REL))
    tags.add(TXXX(encoding=3, desc="MusicBrainz Artist Id", text=[ART1, ART2]))
    tags.add(TXXX(encoding=3, desc="MusicBrainz Album Artist Id", text=ALBART))


def assert_picard_fields(tags: Tags) -> None:
    assert tags.title == "Title ✓"
    assert tags.artist == "Artist One; Artist Two"
    assert tags.artists == ("Artist One", "Artist Two")
    assert tags.album == "Album"
    assert tags.album_artist == "Album Artist"
    assert (tags.track_number, tags.track_total, tags.disc_number, tags.disc_total) == (3, 12, 1, 2)
    assert tags.musicbrainz_recording_id == REC
    assert tags.musicbrainz_release_id == REL
    assert tags.musicbrainz_artist_ids == (ART1, ART2)
    assert tags.musicbrainz_albumartist_id == ALBART
    assert tags.warnings == ()


def test_id3v24_as_picard_writes_it(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("mp3")
    tags = ID3()
    id3_picard(tags)
    tags.add(TDRC(encoding=3, text="2004-05-03"))
    tags.save(path)
    read = read_tags(path, "mp3")
    assert_picard_fields(read)
    assert read.genre == "Rock"  # "(17)" is ID3v1 genre 17
    assert read.date == "2004-05-03"
    assert read.duration_s == pytest.approx(0.2, abs=0.06)
    assert read.sample_rate == 44100 and read.channels == 2


def test_id3v23_with_year_frame(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("mp3")
    tags = ID3()
    id3_picard(tags)
    tags.add(TYER(encoding=1, text="1999"))
    tags.save(path, v2_version=3)
    assert ID3(path).version[:2] == (2, 3)
    read = read_tags(path, "mp3")
    # ID3v2.3 has no list type: mutagen joins with "/", which is not split back ("AC/DC" must survive)
    assert read.artist == "Artist One/Artist Two"
    assert_picard_fields(replace(read, artist="Artist One; Artist Two", artists=("Artist One", "Artist Two")))
    assert read.date == "1999"


def test_id3v1_only(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("mp3")
    v1 = b"TAG" + b"Old Title".ljust(30, b"\0") + b"Old Artist".ljust(30, b"\0") + b"Old Album".ljust(30, b"\0")
    v1 += b"1987" + b"".ljust(28, b"\0") + b"\0" + bytes([7]) + bytes([17])
    with open(path, "ab") as fh:
        fh.write(v1)
    read = read_tags(path, "mp3")
    assert (read.title, read.artist, read.album, read.date) == ("Old Title", "Old Artist", "Old Album", "1987")
    assert read.track_number == 7
    assert read.genre == "Rock"


def test_latin1_frames_and_utf8_stored_as_latin1(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("mp3")
    tags = ID3()
    tags.add(TIT2(encoding=0, text="Café Müller"))  # genuine Latin-1
    tags.add(TPE1(encoding=0, text="BjÃ¶rk"))  # UTF-8 bytes of "Björk" in a Latin-1 frame
    tags.save(path)
    read = read_tags(path, "mp3")
    assert read.title == "Café Müller"
    assert read.artist == "Björk"


def vorbis_picard(tags) -> None:  # type: ignore[no-untyped-def]
    tags["TITLE"] = "Title ✓"
    tags["ARTIST"] = ["Artist One", "Artist Two"]
    tags["ALBUM"] = "Album"
    tags["ALBUMARTIST"] = "Album Artist"
    tags["TRACKNUMBER"] = "3"
    tags["TRACKTOTAL"] = "12"
    tags["DISCNUMBER"] = "1/2"
    tags["DATE"] = "2004"
    tags["GENRE"] = ["Rock", "Pop"]
    tags["MUSICBRAINZ_TRACKID"] = REC
    tags["MUSICBRAINZ_ALBUMID"] = REL
    tags["MUSICBRAINZ_ARTISTID"] = [ART1, ART2]
    tags["MUSICBRAINZ_ALBUMARTISTID"] = ALBART


@pytest.mark.parametrize(("fmt", "cls"), [("flac", FLAC), ("ogg", OggVorbis), ("opus", OggOpus)])
def test_vorbis_comments(copy_of, fmt: str, cls) -> None:  # type: ignore[no-untyped-def]
    path = copy_of(fmt)
    audio = cls(path)
    vorbis_picard(audio)
    audio.save()
    read = read_tags(path, fmt)
    assert_picard_fields(read)
    assert read.genre == "Rock; Pop"
    assert read.duration_s == pytest.approx(0.2, abs=0.03)


def test_mp4_atoms(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("m4a")
    audio = MP4(path)
    audio["\xa9nam"] = ["Title ✓"]
    audio["\xa9ART"] = ["Artist One", "Artist Two"]
    audio["\xa9alb"] = ["Album"]
    audio["aART"] = ["Album Artist"]
    audio["trkn"] = [(3, 12)]
    audio["disk"] = [(1, 2)]
    audio["\xa9day"] = ["2004"]
    free = "----:com.apple.iTunes:"
    audio[free + "MusicBrainz Track Id"] = [MP4FreeForm(REC.encode())]
    audio[free + "MusicBrainz Album Id"] = [MP4FreeForm(REL.encode())]
    audio[free + "MusicBrainz Artist Id"] = [MP4FreeForm(ART1.encode()), MP4FreeForm(ART2.encode())]
    audio[free + "MusicBrainz Album Artist Id"] = [MP4FreeForm(ALBART.encode())]
    audio.save()
    assert_picard_fields(read_tags(path, "m4a"))


def test_asf_attributes(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("wma")
    audio = ASF(path)
    audio["Title"] = "Title ✓"
    audio["Author"] = ["Artist One", "Artist Two"]
    audio["WM/AlbumTitle"] = "Album"
    audio["WM/AlbumArtist"] = "Album Artist"
    audio["WM/TrackNumber"] = "3/12"
    audio["WM/PartOfSet"] = "1/2"
    audio["MusicBrainz/Track Id"] = REC
    audio["MusicBrainz/Album Id"] = REL
    audio["MusicBrainz/Artist Id"] = [ART1, ART2]
    audio["MusicBrainz/Album Artist Id"] = ALBART
    audio.save()
    assert_picard_fields(read_tags(path, "wma"))


def test_apev2_on_wavpack(tmp_path: Path) -> None:
    path = encode(tmp_path / "a.wv", "wv", "wavpack", "s16p")
    tags = APEv2()
    tags["Title"] = "Title ✓"
    tags["Artist"] = "Artist One\x00Artist Two"
    tags["Album"] = "Album"
    tags["Album Artist"] = "Album Artist"
    tags["Track"] = "3/12"
    tags["Disc"] = "1/2"
    tags["MUSICBRAINZ_TRACKID"] = REC
    tags["MUSICBRAINZ_ALBUMID"] = REL
    tags["MUSICBRAINZ_ARTISTID"] = f"{ART1}\x00{ART2}"
    tags["MUSICBRAINZ_ALBUMARTISTID"] = ALBART
    tags.save(path)
    read = read_tags(path, "wv")
    assert_picard_fields(read)
    assert read.duration_s == pytest.approx(0.3, abs=0.03)


def test_apev2_on_mp3_without_id3(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("mp3")
    tags = APEv2()
    tags["Title"] = "From APE"
    tags["Artist"] = "APE Artist"
    tags.save(path)
    read = read_tags(path, "mp3")
    assert (read.title, read.artist) == ("From APE", "APE Artist")


def add_riff_info(path: Path, fields: dict[bytes, bytes]) -> None:
    body = b"INFO"
    for key, value in fields.items():
        data = value + b"\x00"
        body += key + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    chunk = b"LIST" + struct.pack("<I", len(body)) + body
    raw = bytearray(path.read_bytes() + chunk)
    raw[4:8] = struct.pack("<I", len(raw) - 8)
    path.write_bytes(bytes(raw))


def test_riff_info_in_wav_utf8_and_windows_codepage(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("wav")
    add_riff_info(path, {b"INAM": "Título".encode(), b"IART": "Beyoncé".encode("cp1252"), b"IPRD": b"Album",
                         b"ITRK": b"4", b"ICRD": b"2001"})  # fmt: skip
    read = read_tags(path, "wav")
    assert (read.title, read.artist, read.album, read.track_number, read.date) == (
        "Título",
        "Beyoncé",
        "Album",
        4,
        "2001",
    )


def test_id3_chunk_in_wav_wins_over_info(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("wav")
    add_riff_info(path, {b"INAM": b"Info Title", b"IART": b"Info Artist"})
    audio = WAVE(path)
    audio.add_tags()
    audio.tags.add(TIT2(encoding=3, text="ID3 Title"))
    audio.save()
    read = read_tags(path, "wav")
    assert (read.title, read.artist) == ("ID3 Title", "Info Artist")


def test_aiff_id3(copy_of) -> None:  # type: ignore[no-untyped-def]
    from mutagen.aiff import AIFF

    path = copy_of("aiff")
    audio = AIFF(path)
    audio.add_tags()
    id3_picard(audio.tags)
    audio.save()
    assert_picard_fields(read_tags(path, "aiff"))


def test_embedded_pictures_are_returned(copy_of, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    png = b"\x89PNG\r\n\x1a\n" + b"fake-but-bytes"
    path = copy_of("flac")
    audio = FLAC(path)
    back, front = Picture(), Picture()
    back.type, back.data, back.mime = 4, b"back", "image/png"
    front.type, front.data, front.mime = 3, png, "image/png"
    audio.add_picture(back)
    audio.add_picture(front)
    audio.save()
    tags, picture = read_tags_and_picture(path, "flac")
    assert picture == png  # the front cover, not the first picture
    assert tags.has_embedded_art


def test_invalid_mbids_are_dropped(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("flac")
    audio = FLAC(path)
    audio["MUSICBRAINZ_TRACKID"] = "not-a-uuid"
    audio["MUSICBRAINZ_ARTISTID"] = f"{ART1}; junk"
    audio.save()
    read = read_tags(path, "flac")
    assert read.musicbrainz_recording_id is None
    assert read.musicbrainz_artist_ids == (ART1,)


HOSTILE = {
    "flac block past the end": b"fLaC\x00\x00\x00\x22" + b"\x10" * 34 + b"\x84\xff\xff\xff" + b"\x00" * 20,
    "id3 with garbage frames": b"ID3\x04\x00\x00\x00\x00\x01\x00" + b"TIT2\x7f\x7f\x7f\x7f\x00\x00" + b"\xff" * 200,
    "mp4 with absurd atom": b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A " + b"\xff\xff\xff\xffmoov" + b"\x00" * 64,
    "ogg garbage": b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e\x01vorbis" + b"\xff" * 64,
    "asf truncated": bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + b"\xff" * 40,
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("fmt", [None, "mp3", "flac", "ogg", "m4a", "wma", "wav"])
def test_hostile_bytes_never_raise(tmp_path: Path, name: str, fmt: str | None) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(HOSTILE[name])
    tags, picture = read_tags_and_picture(path, fmt)
    assert tags.title is None and picture is None
    assert {w.code for w in tags.warnings} <= {ErrorCode.TAG_READ_ERROR}
    if name == "empty" or (fmt == "mp3" and name != "id3 with garbage frames"):
        assert tags.warnings, "a file no tag reader accepts is reported"


def test_missing_file_gives_a_warning(tmp_path: Path) -> None:
    tags = read_tags(tmp_path / "gone.mp3", "mp3")
    assert tags == Tags(warnings=tags.warnings)
    assert tags.warnings[0].code == ErrorCode.TAG_READ_ERROR


def test_json_round_trip(copy_of) -> None:  # type: ignore[no-untyped-def]
    path = copy_of("mp3")
    tags = ID3()
    id3_picard(tags)
    tags.save(path)
    read = read_tags(path, "mp3")
    assert Tags.from_json(read.to_json()) == read
