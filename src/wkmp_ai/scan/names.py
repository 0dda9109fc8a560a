"""What file and folder names say about a track, for display and as weak identification evidence.

Display (docs/scan.md): :func:`display_metadata` gives title, artist and album for a passage
when the tags are silent. Order of trust for each field: the tags, then the file name, then the
folder names, then "Unknown Artist" / "Unknown Album" (the title always has a value: the file name).

Identification (docs/identify.md, *Search by tags and names*): :func:`name_hints` gives the same
reading with its parts kept apart — track and disc numbers, a title only where the name holds one,
a year from the album folder — for a MusicBrainz search and for pairing files with tracks. Names are
never trusted alone: a match found through them must also fit the measured durations.

File names understood (extension removed):

- ``Artist - Album - 01 - Title`` → Artist / Album / track 1 / Title
- ``01 - Title``, ``01. Title``, ``01 Title``, ``1-01 Title`` (disc 1) → track / Title
- ``track01``, ``Track 1``, ``Audio Track 01``, ``01`` → track 1, no title
- ``Title`` → Title

Folder names: a file at ``Artist/Album/NN Title.ext`` (two or more folders deep) takes Album from
its folder and Artist from the folder above it; a single folder ``Artist - Album`` gives both. A
disc folder (``CD1``, ``Disc 2``) is skipped and gives the disc number. For identification the
album folder loses a year (``Album (1993)``, ``1993 - Album``) and bracketed notes (``[FLAC]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wkmp_ai.records.scan import Tags

__all__ = ["UNKNOWN_ALBUM", "UNKNOWN_ARTIST", "NameHints", "display_metadata", "name_hints", "parse_file_name"]

UNKNOWN_ARTIST = "Unknown Artist"
UNKNOWN_ALBUM = "Unknown Album"

_FOUR_PARTS = re.compile(r"^(?P<artist>.+?) - (?P<album>.+?) - (?P<track>\d{1,3}) - (?P<title>.+)$")
_NUMBERED = re.compile(r"^(?:(?P<disc>\d{1,2})[-.])?(?P<track>\d{1,3})(?:\s*[-.]\s*|\s+)(?P<title>\S.*)$")
_PLACEHOLDER = re.compile(r"^(?:audio\s*)?(?:track|piste|pista|titel|traccia)?[\s_-]*(?P<track>\d{1,3})$", re.I)
_DISC_FOLDER = re.compile(r"^(?:cd|disc|disk)\s*(?P<disc>\d+)$", re.IGNORECASE)
_BRACKETED = re.compile(r"\s*\[[^\]]*\]\s*$")
_YEAR_AFTER = re.compile(r"^(?P<name>.+?)\s*(?:\((?P<year>(?:19|20)\d\d)\)|-\s*(?P<year2>(?:19|20)\d\d))$")
_YEAR_BEFORE = re.compile(r"^[(\[]?(?P<year>(?:19|20)\d\d)[)\]]?\s*-\s*(?P<name>.+)$")


@dataclass(frozen=True)
class NameHints:
    """What a path says, field by field; None where it says nothing."""

    title: str | None = None  # None also for a placeholder name such as "track05"
    artist: str | None = None
    album: str | None = None
    year: str | None = None
    track: int | None = None
    disc: int | None = None
    disc_folder: bool = False  # the file lies in a disc folder (CD2/): the folder is one disc of the album


def _stem(rel_path: str) -> str:
    name = rel_path.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    if dot and stem and 1 <= len(ext) <= 5 and " " not in ext:
        name = stem
    if "_" in name and " " not in name:  # Some_Title_Like_This
        name = name.replace("_", " ")
    return name.strip()


def parse_file_name(rel_path: str) -> tuple[str, str | None, str | None]:
    """(title, artist or None, album or None) from the file name alone."""
    stem = _stem(rel_path)
    match = _FOUR_PARTS.match(stem)
    if match:
        return match["title"].strip(), match["artist"].strip(), match["album"].strip()
    match = _NUMBERED.match(stem)
    if match:
        return match["title"].strip(), None, None
    return stem or rel_path, None, None


def _folder_parts(rel_path: str) -> tuple[list[str], int | None]:
    """The folders above the file, a trailing disc folder removed (and its number)."""
    parts = [p for p in rel_path.split("/")[:-1] if p]
    disc = None
    if parts and (match := _DISC_FOLDER.match(parts[-1])):
        disc = int(match["disc"]) or None
        parts.pop()
    return parts, disc


def _folders(rel_path: str) -> tuple[str | None, str | None]:
    """(artist, album) from the folders above the file, when it lies two or more deep."""
    parts, _ = _folder_parts(rel_path)
    if len(parts) < 2:
        return None, None
    return parts[-2], parts[-1]


def _clean_album(name: str) -> tuple[str, str | None]:
    """An album folder name without bracketed notes and year: ("Album", "1993")."""
    while (stripped := _BRACKETED.sub("", name)) != name and stripped:
        name = stripped
    for pattern in (_YEAR_BEFORE, _YEAR_AFTER):
        match = pattern.match(name)
        if match and match["name"].strip(" -"):
            return match["name"].strip(" -"), match["year"] or match.groupdict().get("year2")
    return name, None


def _track_and_disc(track: str, disc: str | None) -> tuple[int | None, int | None]:
    number = int(track)
    if disc is None and number > 99:  # 105 → disc 1, track 5
        return (number % 100 or None), number // 100
    return (number or None), (int(disc) or None) if disc else None


def name_hints(rel_path: str) -> NameHints:
    """Everything the path suggests about the file's track (weak evidence, see the module doc)."""
    stem = _stem(rel_path)
    parts, disc = _folder_parts(rel_path)
    disc_folder = disc is not None
    artist = album = year = title = None
    track = None
    if len(parts) >= 2:
        artist, album = parts[-2], parts[-1]
    elif len(parts) == 1 and " - " in parts[0]:
        artist, album = (p.strip() for p in parts[0].split(" - ", 1))
    if album:
        album, year = _clean_album(album)
    if match := _FOUR_PARTS.match(stem):
        artist, album, title = match["artist"].strip(), match["album"].strip(), match["title"].strip()
        track, _ = _track_and_disc(match["track"], None)
    elif match := _PLACEHOLDER.match(stem):
        track, name_disc = _track_and_disc(match["track"], None)
        disc = disc or name_disc
    elif match := _NUMBERED.match(stem):
        track, name_disc = _track_and_disc(match["track"], match["disc"])
        disc = disc or name_disc
        title = match["title"].strip()
    elif stem:
        title = stem
    return NameHints(
        title=title or None,
        artist=artist or None,
        album=album or None,
        year=year,
        track=track,
        disc=disc,
        disc_folder=disc_folder,
    )


def display_metadata(tags: Tags, rel_path: str) -> tuple[str, str, str]:
    """(title, artist, album) for ``passages.title/artist/album``: tags first, then the fallbacks."""
    name_title, name_artist, name_album = parse_file_name(rel_path)
    folder_artist, folder_album = _folders(rel_path)
    title = tags.title or name_title
    artist = tags.artist or tags.album_artist or name_artist or folder_artist or UNKNOWN_ARTIST
    album = tags.album or name_album or folder_album or UNKNOWN_ALBUM
    return title, artist, album
