"""Files named like audio whose content is not audio: reported (``NOT_AUDIO``), never dropped silently.

Discovery goes by content (docs/scan.md); a file called ``.mp3`` that holds a web page, a picture
or nothing at all is not imported. The user named it as audio, so the import says so, with what
the file seems to hold instead.
"""

from __future__ import annotations

import os

__all__ = ["AUDIO_SUFFIXES", "named_like_audio", "not_audio_message"]

AUDIO_SUFFIXES = frozenset(
    (
        *(".mp3", ".mp2", ".mpga", ".aac", ".flac", ".fla", ".ogg", ".oga", ".opus", ".m4a", ".m4b", ".mp4"),
        *(".alac", ".wav", ".wave", ".aif", ".aiff", ".aifc", ".wma", ".asf", ".ape", ".wv", ".tta", ".caf"),
        *(".mpc", ".dsf"),
    )
)

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
)


def named_like_audio(rel_path: str) -> bool:
    return os.path.splitext(rel_path)[1].lower() in AUDIO_SUFFIXES


def _what(head: bytes, size: int) -> str:
    if size == 0:
        return "the file is empty"
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return f"it holds {name}"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "it holds a WebP image"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:5].lower() in (b"<!doc", b"<html"):
        return "it holds a web page (HTML)"
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        decoded = ""
    if decoded and all(ch.isprintable() or ch in "\r\n\t" for ch in decoded[:-1]):
        return "it holds text"
    if not head.strip(b"\x00"):
        return "it holds only zero bytes"
    return "its content is no audio format we can read (damaged, or another kind of file)"


def not_audio_message(rel_path: str, size: int, path: str | None) -> str:
    """Why ``rel_path`` (named like audio, ``size`` bytes) was not imported, in plain words.

    ``path``: where to look at its first bytes to say what it holds; None for a file an earlier
    scan already found to be no audio (unchanged since: a rescan opens no such file).
    """
    named = f"named like an audio file ({os.path.splitext(rel_path)[1].lower()}) but"
    if path is None:
        return f"{named} not audio (unchanged since it was last looked at): not imported"
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        return f"{named} could not be read ({exc.strerror or 'unreadable'}): not imported"
    return f"{named} {_what(head, size)}: not imported"
