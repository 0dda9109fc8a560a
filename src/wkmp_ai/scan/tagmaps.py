"""From each tag format's own keys to one set of canonical keys, and its embedded pictures.

Every reader here takes a loaded mutagen object (or raw RIFF bytes) and returns
``{canonical key: [values]}``; :mod:`wkmp_ai.scan.tags` builds :class:`Tags` from that one shape.
Key names follow what MusicBrainz Picard writes (picard.musicbrainz.org/docs/mappings/).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable
from typing import Any

from mutagen._constants import GENRES
from mutagen.apev2 import APEv2
from mutagen.asf import ASFTags
from mutagen.flac import Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Tags

__all__ = ["FRONT_COVER", "Picture", "canonical_from", "pictures_from", "riff_info"]

Canonical = dict[str, list[str]]
FRONT_COVER = 3  # APIC / FLAC picture type "Cover (front)"

# Vorbis comments and APEv2 share Picard's upper-case names (APE is matched case-insensitively).
_VORBIS = {
    "title": "title",
    "artist": "artist",
    "album": "album",
    "albumartist": "albumartist",
    "album artist": "albumartist",
    "album_artist": "albumartist",
    "tracknumber": "tracknumber",
    "track": "tracknumber",
    "tracktotal": "tracktotal",
    "totaltracks": "tracktotal",
    "discnumber": "discnumber",
    "disc": "discnumber",
    "disctotal": "disctotal",
    "totaldiscs": "disctotal",
    "date": "date",
    "year": "date",
    "originaldate": "originaldate",
    "genre": "genre",
    "musicbrainz_trackid": "mb_recording",
    "musicbrainz_albumid": "mb_release",
    "musicbrainz_artistid": "mb_artist",
    "musicbrainz_albumartistid": "mb_albumartist",
    "musicbrainz_releasegroupid": "mb_releasegroup",
    "musicbrainz_releasetrackid": "mb_releasetrack",
}

_ID3_TEXT = {
    "TIT2": "title",
    "TPE1": "artist",
    "TALB": "album",
    "TPE2": "albumartist",
    "TRCK": "tracknumber",
    "TPOS": "discnumber",
    "TDRC": "date",
    "TDOR": "originaldate",
}
_ID3_TXXX = {
    "musicbrainz album id": "mb_release",
    "musicbrainz artist id": "mb_artist",
    "musicbrainz album artist id": "mb_albumartist",
    "musicbrainz release group id": "mb_releasegroup",
    "musicbrainz release track id": "mb_releasetrack",
}

_MP4 = {
    "\xa9nam": "title",
    "\xa9ART": "artist",
    "\xa9alb": "album",
    "aART": "albumartist",
    "\xa9day": "date",
    "\xa9gen": "genre",
}
_MP4_FREEFORM = {
    "musicbrainz track id": "mb_recording",
    "musicbrainz album id": "mb_release",
    "musicbrainz artist id": "mb_artist",
    "musicbrainz album artist id": "mb_albumartist",
    "musicbrainz release group id": "mb_releasegroup",
    "musicbrainz release track id": "mb_releasetrack",
}

_ASF = {
    "title": "title",
    "author": "artist",
    "wm/albumtitle": "album",
    "wm/albumartist": "albumartist",
    "wm/tracknumber": "tracknumber",
    "wm/partofset": "discnumber",
    "wm/year": "date",
    "wm/genre": "genre",
    "musicbrainz/track id": "mb_recording",
    "musicbrainz/album id": "mb_release",
    "musicbrainz/artist id": "mb_artist",
    "musicbrainz/album artist id": "mb_albumartist",
    "musicbrainz/release group id": "mb_releasegroup",
    "musicbrainz/release track id": "mb_releasetrack",
}

# RIFF INFO chunk ids (the "Resource Interchange File Format" INFO list).
_RIFF_INFO = {
    b"INAM": "title",
    b"IART": "artist",
    b"IPRD": "album",
    b"ICRD": "date",
    b"IGNR": "genre",
    b"ITRK": "tracknumber",
    b"IPRT": "tracknumber",
}


def _add(out: Canonical, key: str, values: Iterable[Any]) -> None:
    for value in values:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        text = text.replace("\x00", "").strip()
        if text:
            out.setdefault(key, []).append(text)


def fix_mojibake(text: str) -> str:
    """UTF-8 bytes stored in a field declared Latin-1 (a common tagger bug) read back as UTF-8.

    Genuine Latin-1 text almost never forms valid multi-byte UTF-8, so this cannot hurt it.
    """
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _from_id3(tags: ID3) -> Canonical:
    out: Canonical = {}
    for frame_id, key in _ID3_TEXT.items():
        for frame in tags.getall(frame_id):
            texts = [str(t) for t in frame.text]
            if getattr(frame, "encoding", None) == 0:  # declared Latin-1
                texts = [fix_mojibake(t) for t in texts]
            _add(out, key, texts)
    for frame in tags.getall("TCON"):
        _add(out, "genre", [fix_mojibake(g) if frame.encoding == 0 else g for g in frame.genres])
    for frame in tags.getall("TXXX"):
        txxx_key = _ID3_TXXX.get(frame.desc.lower())
        if txxx_key:
            _add(out, txxx_key, frame.text)
    for frame in tags.getall("UFID"):
        if frame.owner == "http://musicbrainz.org":
            _add(out, "mb_recording", [frame.data])
    return out


def _from_vorbis(tags: Any) -> Canonical:
    out: Canonical = {}
    for name, value in tags:
        key = _VORBIS.get(name.lower())
        if key:
            _add(out, key, [value])
    return out


def _from_ape(tags: APEv2) -> Canonical:
    out: Canonical = {}
    for name, value in tags.items():
        key = _VORBIS.get(name.lower())
        if key and getattr(value, "kind", 0) == 0:  # text items only
            _add(out, key, list(value))
    return out


def _from_mp4(tags: MP4Tags) -> Canonical:
    out: Canonical = {}
    for name, values in tags.items():
        if name in _MP4:
            _add(out, _MP4[name], values)
        elif name in ("trkn", "disk") and values:
            number, total = values[0]
            prefix = "track" if name == "trkn" else "disc"
            if number:
                _add(out, prefix + "number", [number])
            if total:
                _add(out, prefix + "total", [total])
        elif name == "gnre":
            _add(out, "genre", [GENRES[v - 1] for v in values if 0 < v <= len(GENRES)])
        elif name.startswith("----:com.apple.iTunes:"):
            key = _MP4_FREEFORM.get(name.split(":", 2)[2].lower())
            if key:
                _add(out, key, [bytes(v) for v in values])
    return out


def _from_asf(tags: ASFTags) -> Canonical:
    out: Canonical = {}
    for name, values in tags.items():
        key = _ASF.get(name.lower())
        if key:
            _add(out, key, [v.value for v in values])
    return out


def canonical_from(tags: Any) -> Canonical:
    """Canonical keys from any mutagen tag object we know; empty for others (or None)."""
    if tags is None:
        return {}
    if isinstance(tags, ID3):
        return _from_id3(tags)
    if isinstance(tags, MP4Tags):
        return _from_mp4(tags)
    if isinstance(tags, ASFTags):
        return _from_asf(tags)
    if isinstance(tags, APEv2):
        return _from_ape(tags)
    if hasattr(tags, "vendor"):  # VComment (FLAC, Ogg Vorbis/Opus/FLAC)
        return _from_vorbis(tags)
    return {}


def _decode_info(raw: bytes) -> str:
    raw = raw.split(b"\x00", 1)[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")  # Windows wrote INFO in the ANSI code page


def riff_info(path: str, *, limit: int = 1 << 20) -> Canonical:
    """The RIFF ``LIST/INFO`` fields of a WAV file (mutagen reads only its ID3 chunk)."""
    out: Canonical = {}
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:12] != b"WAVE":
            return out
        offset = 12
        for _ in range(64):  # chunks visited at most; INFO lists sit near the start or the end
            fh.seek(offset)
            header = fh.read(8)
            if len(header) < 8:
                break
            chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk_id == b"LIST" and size >= 4 and fh.read(4) == b"INFO":
                body = fh.read(min(size - 4, limit))
                pos = 0
                while pos + 8 <= len(body):
                    sub_id, sub_size = body[pos : pos + 4], struct.unpack("<I", body[pos + 4 : pos + 8])[0]
                    key = _RIFF_INFO.get(sub_id)
                    if key:
                        _add(out, key, [_decode_info(body[pos + 8 : pos + 8 + sub_size])])
                    pos += 8 + sub_size + (sub_size & 1)
            offset += 8 + size + (size & 1)  # go on: an encoder's INFO list may come before the user's
    return out


# --- Embedded pictures ------------------------------------------------------------------------

EmbeddedPicture = tuple[int, bytes]  # (picture type, image bytes)


def _asf_picture(raw: bytes) -> EmbeddedPicture | None:
    """WM/Picture: type (1 byte), size (LE32), MIME and description (UTF-16LE, NUL-ended), data."""
    if len(raw) < 5:
        return None
    kind, size = raw[0], struct.unpack("<I", raw[1:5])[0]
    pos = 5
    for _ in range(2):  # MIME type, then description
        end = pos
        while end + 1 < len(raw) and raw[end : end + 2] != b"\x00\x00":
            end += 2
        pos = end + 2
    data = raw[pos : pos + size]
    return (kind, data) if data else None


def pictures_from(mf: Any) -> list[EmbeddedPicture]:
    """Every embedded picture of a loaded mutagen file, in file order."""
    found: list[EmbeddedPicture] = []
    tags = getattr(mf, "tags", None)
    for picture in getattr(mf, "pictures", None) or []:  # FLAC blocks
        found.append((picture.type, picture.data))
    if isinstance(tags, ID3):
        found.extend((frame.type, frame.data) for frame in tags.getall("APIC"))
    elif isinstance(tags, MP4Tags):
        found.extend((FRONT_COVER, bytes(cover)) for cover in tags.get("covr", []))
    elif isinstance(tags, ASFTags):
        for value in tags.get("WM/Picture", []):
            picture = _asf_picture(bytes(value.value))
            if picture:
                found.append(picture)
    elif isinstance(tags, APEv2):
        for name, value in tags.items():
            if name.lower().startswith("cover art") and getattr(value, "kind", 0) == 1:
                data = bytes(value.value).split(b"\x00", 1)[-1]  # "filename\0" then the image
                found.append((FRONT_COVER if "front" in name.lower() else 0, data))
    elif tags is not None and hasattr(tags, "vendor"):
        for encoded in tags.get("metadata_block_picture", []):
            try:
                picture = Picture(base64.b64decode(encoded))
            except Exception:  # a broken block is just not a picture
                continue
            found.append((picture.type, picture.data))
    return found
