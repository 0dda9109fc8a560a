"""Title, artist and album for display when the tags are silent (REFERENCE.md §7.3).

Order of trust for each field: the tags, then the file name, then the folder names, then
"Unknown Artist" / "Unknown Album" (the title always has a value: the file name).

File names understood (extension removed):

- ``Artist - Album - 01 - Title`` → Artist / Album / Title
- ``01 - Title``, ``01. Title``, ``01 Title``, ``1-01 Title`` → Title
- ``Title`` → Title

Folder names: a file at ``Artist/Album/NN Title.ext`` (two or more folders deep) takes Album from
its folder and Artist from the folder above it. A disc folder (``CD1``, ``Disc 2``) is skipped.
"""

from __future__ import annotations

import re

from wkmp_ai.scan.tags import Tags

__all__ = ["UNKNOWN_ALBUM", "UNKNOWN_ARTIST", "display_metadata", "parse_file_name"]

UNKNOWN_ARTIST = "Unknown Artist"
UNKNOWN_ALBUM = "Unknown Album"

_FOUR_PARTS = re.compile(r"^(?P<artist>.+?) - (?P<album>.+?) - (?P<track>\d{1,3}) - (?P<title>.+)$")
_NUMBERED = re.compile(r"^(?:\d{1,2}[-.])?\d{1,3}(?:\s*[-.]\s*|\s+)(?P<title>\S.*)$")
_DISC_FOLDER = re.compile(r"^(?:cd|disc|disk)\s*\d+$", re.IGNORECASE)


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


def _folders(rel_path: str) -> tuple[str | None, str | None]:
    """(artist, album) from the folders above the file, when it lies two or more deep."""
    parts = [p for p in rel_path.split("/")[:-1] if p]
    if parts and _DISC_FOLDER.match(parts[-1]):
        parts.pop()
    if len(parts) < 2:
        return None, None
    return parts[-2], parts[-1]


def display_metadata(tags: Tags, rel_path: str) -> tuple[str, str, str]:
    """(title, artist, album) for ``passages.title/artist/album``: tags first, then the fallbacks."""
    name_title, name_artist, name_album = parse_file_name(rel_path)
    folder_artist, folder_album = _folders(rel_path)
    title = tags.title or name_title
    artist = tags.artist or tags.album_artist or name_artist or folder_artist or UNKNOWN_ARTIST
    album = tags.album or name_album or folder_album or UNKNOWN_ALBUM
    return title, artist, album
