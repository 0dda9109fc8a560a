"""Display fallbacks (docs/scan.md, *Tags*): tags, file name, folder names, "Unknown ..."."""

from __future__ import annotations

import pytest

from wkmp_ai.records.scan import Tags
from wkmp_ai.scan.names import NameHints, display_metadata, name_hints, parse_file_name

NO_TAGS = Tags()


@pytest.mark.parametrize(
    ("rel_path", "expected"),
    [
        ("Artist - Album - 01 - Title.mp3", ("Title", "Artist", "Album")),
        ("music/Daft Punk - Discovery - 03 - Digital Love.flac", ("Digital Love", "Daft Punk", "Discovery")),
        ("01 - Title.mp3", ("Title", "Unknown Artist", "Unknown Album")),
        ("07. Title Here.ogg", ("Title Here", "Unknown Artist", "Unknown Album")),
        ("Title.mp3", ("Title", "Unknown Artist", "Unknown Album")),
        ("Some_Title_Here.wav", ("Some Title Here", "Unknown Artist", "Unknown Album")),
        ("1984.mp3", ("1984", "Unknown Artist", "Unknown Album")),
        ("Artist/Album/05 Song.flac", ("Song", "Artist", "Album")),
        ("lib/Artist/Album/CD2/1-05 Song.flac", ("Song", "Artist", "Album")),
        ("Album Only/05 Song.flac", ("Song", "Unknown Artist", "Unknown Album")),
        ("no extension", ("no extension", "Unknown Artist", "Unknown Album")),
    ],
)
def test_fallbacks_without_tags(rel_path: str, expected: tuple[str, str, str]) -> None:
    assert display_metadata(NO_TAGS, rel_path) == expected


def test_tags_win_field_by_field() -> None:
    tags = Tags(title="Tagged Title", album="Tagged Album")
    assert display_metadata(tags, "Folder Artist/Folder Album/01 File Title.mp3") == (
        "Tagged Title",
        "Folder Artist",
        "Tagged Album",
    )
    assert display_metadata(Tags(album_artist="Band"), "x.mp3") == ("x", "Band", "Unknown Album")


def test_file_name_beats_folders() -> None:
    assert display_metadata(NO_TAGS, "A/B/Artist - Album - 01 - Title.mp3") == ("Title", "Artist", "Album")


def test_parse_file_name_never_returns_empty_title() -> None:
    assert parse_file_name("dir/.mp3")[0]
    assert parse_file_name("01 - .mp3")[0]


@pytest.mark.parametrize(
    ("rel_path", "expected"),
    [
        ("Artist/Album/05 - Song.flac", NameHints("Song", "Artist", "Album", None, 5, None)),
        ("Artist/Album/05 Song.flac", NameHints("Song", "Artist", "Album", None, 5, None)),
        ("lib/Artist/Album (1993)/07. Song.mp3", NameHints("Song", "Artist", "Album", "1993", 7, None)),
        ("Artist/1993 - Album [FLAC 24]/01 Song.flac", NameHints("Song", "Artist", "Album", "1993", 1, None)),
        ("Artist - Album/03 Song.ogg", NameHints("Song", "Artist", "Album", None, 3, None)),
        ("x/Artist - Album - 07 - Song.mp3", NameHints("Song", "Artist", "Album", None, 7, None)),
        ("Artist/Album/CD2/1-05 Song.flac", NameHints("Song", "Artist", "Album", None, 5, 2, disc_folder=True)),
        ("Artist/Album/2-05 Song.flac", NameHints("Song", "Artist", "Album", None, 5, 2)),
        ("Artist/Album/track05.flac", NameHints(None, "Artist", "Album", None, 5, None)),
        ("Artist/Album/Audio Track 5.wav", NameHints(None, "Artist", "Album", None, 5, None)),
        ("Artist/Album/05.flac", NameHints(None, "Artist", "Album", None, 5, None)),
        ("Summer of 1969/01 Song.flac", NameHints("Song", None, None, None, 1, None)),
        ("Music/Summer of 1969/01 Song.flac", NameHints("Song", "Music", "Summer of 1969", None, 1, None)),
        ("1984.mp3", NameHints("1984", None, None, None, None, None)),
        ("Song.mp3", NameHints("Song", None, None, None, None, None)),
    ],
)
def test_name_hints_keep_numbers_titles_and_folders_apart(rel_path: str, expected: NameHints) -> None:
    assert name_hints(rel_path) == expected
