"""Magic-byte identification: every format we accept, made by a real encoder; decoys rejected."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.scan.extra_audio import encode
from wkmp_ai.scan.formats import AUDIO_FORMATS, could_be_audio, identify, sniff_file

EXPECTED = {
    "wav": "wav",
    "wav24": "wav",
    "wav8": "wav",
    "flac": "flac",
    "flac24": "flac",
    "mp3": "mp3",
    "ogg": "ogg",
    "opus": "opus",
    "m4a": "m4a",
    "alac": "m4a",
    "aiff": "aiff",
    "wma": "wma",
}


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_every_encoded_format_is_recognised(encoded: dict[str, Path], fmt: str) -> None:
    found, st = sniff_file(str(encoded[fmt]))
    assert found == EXPECTED[fmt]
    assert st is not None and st.st_size == encoded[fmt].stat().st_size


@pytest.mark.parametrize(
    ("container", "codec", "sample_fmt", "name", "expected"),
    [
        ("wv", "wavpack", "s16p", "a.wv", "wv"),
        ("tta", "tta", "s16", "a.tta", "tta"),
        ("caf", "pcm_s16be", "s16", "a.caf", "caf"),
        ("adts", "aac", "fltp", "a.aac", "aac"),
        ("mp2", "mp2", "s16", "a.mp2", "mp2"),
    ],
)
def test_other_formats_pyav_decodes(
    tmp_path: Path, container: str, codec: str, sample_fmt: str, name: str, expected: str
) -> None:
    path = encode(tmp_path / name, container, codec, sample_fmt)
    assert sniff_file(str(path))[0] == expected
    with av.open(str(path)) as check:  # and PyAV really decodes what we accepted
        assert check.streams.audio


def test_every_reported_format_is_listed(encoded: dict[str, Path]) -> None:
    assert set(EXPECTED.values()) <= set(AUDIO_FORMATS)


def test_extension_does_not_matter(tmp_path: Path, encoded: dict[str, Path]) -> None:
    hidden = tmp_path / "track.jpg"
    hidden.write_bytes(encoded["flac"].read_bytes())
    bare = tmp_path / "track"
    bare.write_bytes(encoded["mp3"].read_bytes())
    assert sniff_file(str(hidden))[0] == "flac"
    assert sniff_file(str(bare))[0] == "mp3"


def _identify(data: bytes) -> str | None:
    return identify(data[:64], len(data), lambda offset, length: data[offset : offset + length])


def test_id3_followed_by_other_audio(encoded: dict[str, Path]) -> None:
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x14" + b"\x00" * 20  # a 20-byte (empty, padded) ID3v2.4 tag
    assert _identify(tag + encoded["flac"].read_bytes()) == "flac"
    mp3 = encoded["mp3"].read_bytes()
    assert _identify(tag + b"\x00" * 300 + mp3) == "mp3"  # zero padding after the tag is skipped


def test_ape_header() -> None:
    header = b"MAC " + (3990).to_bytes(2, "little") + b"\x00" * 90
    assert _identify(header) == "ape"
    assert _identify(b"MAC " + (1).to_bytes(2, "little") + b"\x00" * 90) is None


DECOYS = {
    "text named mp3": b"This is not an MP3 file.\n" * 10,
    "empty": b"",
    "three bytes": b"ID3",
    "flac magic only": b"fLaC",
    "flac without streaminfo": b"fLaC" + b"\x84\x00\x00\x10" + b"\x00" * 60,
    "id3 tag and nothing": b"ID3\x03\x00\x00\x00\x00\x02\x00" + b"\x00" * 256,
    "id3 promising more than the file": b"ID3\x04\x00\x00\x00\x01\x00\x00" + b"\x00" * 100,
    "one mpeg header": b"\xff\xfb\x90\x64" + b"\x00" * 30,
    "mpeg header then junk": b"\xff\xfb\x90\x64" + b"\x00" * 413 + b"junkjunk",
    "riff wave without fmt": b"RIFF\x24\x00\x00\x00WAVE",
    "riff avi": b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 40,
    "ogg cut": b"OggS\x00\x02" + b"\x00" * 10,
    "ogg theora": b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x2a\x80theora" + b"\x00" * 60,
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64,
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
    "quicktime movie": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 64,
    "zip": b"PK\x03\x04" + b"\x00" * 64,
    "sqlite": b"SQLite format 3\x00" + b"\x00" * 64,
    "pdf": b"%PDF-1.7\n" + b"\x00" * 64,
}


@pytest.mark.parametrize("name", sorted(DECOYS))
def test_decoys_are_not_audio(tmp_path: Path, name: str) -> None:
    path = tmp_path / "decoy.mp3"
    path.write_bytes(DECOYS[name])
    assert sniff_file(str(path))[0] is None


@pytest.mark.parametrize("fmt", ["mp3", "flac", "ogg", "opus", "m4a", "wav", "aiff", "wma"])
def test_truncated_real_headers_are_rejected(tmp_path: Path, encoded: dict[str, Path], fmt: str) -> None:
    whole = encoded[fmt].read_bytes()
    cut = tmp_path / f"cut.{fmt}"
    cut.write_bytes(whole[:12])
    assert sniff_file(str(cut))[0] is None


def test_fifo_is_never_opened_for_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp3"
    import os

    os.mkfifo(fifo)
    assert sniff_file(str(fifo))[0] is None  # O_NONBLOCK: returns at once instead of waiting for a writer


def test_cheap_first_look() -> None:
    assert could_be_audio(b"fLaC\x00\x00\x00\x22")
    assert not could_be_audio(b"hello world")
    assert not could_be_audio(b"")
