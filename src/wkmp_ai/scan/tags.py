"""Reading tags with mutagen: one :class:`Tags` record per file, whatever the tag format.

Supported: ID3v2.2/2.3/2.4 and ID3v1 (MP3, AIFF, WAV), Vorbis comments (FLAC, Ogg Vorbis, Opus,
Ogg FLAC), MP4 atoms (M4A/ALAC), ASF (WMA), APEv2 (APE, WavPack, Musepack, and MP3 files that
carry one), RIFF INFO (WAV). Text declared Latin-1 that is really UTF-8 is repaired.

Untrusted bytes may fail only with our warning: :func:`read_tags` never raises. A file whose tags
cannot be parsed gives empty :class:`Tags` with a ``TAG_READ_ERROR`` warning; the file itself is
still imported (its audio may be fine).

Tags are what a file's author wrote, so they are bounded before anything keeps them: a value is cut
to :data:`MAX_TAG_VALUE_BYTES` of UTF-8 (at a character boundary) and a field keeps its first
:data:`MAX_TAG_VALUES` values (an 8 MiB TITLE or 5,000 ARTIST values are attacks, not metadata);
the file gets one ``TAG_READ_ERROR`` warning saying what was cut. ``duration_s`` is the header's
claim only when it is plausible (:func:`plausible_duration`).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import mutagen
from mutagen.aac import AAC
from mutagen.aiff import AIFF
from mutagen.apev2 import APEv2
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.trueaudio import TrueAudio
from mutagen.wave import WAVE
from mutagen.wavpack import WavPack

from wkmp_ai.errors import ErrorCode, plain_message
from wkmp_ai.records.scan import ScanWarning, Tags
from wkmp_ai.scan.tagmaps import FRONT_COVER, canonical_from, pictures_from, riff_info

__all__ = [
    "MAX_DURATION_S",
    "MAX_TAG_VALUES",
    "MAX_TAG_VALUE_BYTES",
    "MIN_BYTES_PER_SECOND",
    "plausible_duration",
    "read_tags",
    "read_tags_and_picture",
]

MAX_TAG_VALUE_BYTES = 4096  # UTF-8 bytes kept of one value; a long classical title is ~300
MAX_TAG_VALUES = 64  # values kept of one field (ARTIST, GENRE, ...)
MAX_DURATION_S = 604_800.0  # a week; a header claiming more is not believed
MIN_BYTES_PER_SECOND = 32  # FLAC or Opus of digital silence needs ~230 B/s; a claim below 32 is a lie

# The mutagen class for each format discovery names; None: let mutagen guess (Ogg holds several).
_READERS: dict[str, Any] = {
    "mp3": MP3,
    "mp2": MP3,
    "flac": FLAC,
    "opus": OggOpus,
    "m4a": MP4,
    "wav": WAVE,
    "aiff": AIFF,
    "wma": ASF,
    "ape": MonkeysAudio,
    "wv": WavPack,
    "tta": TrueAudio,
    "aac": AAC,
}
_APE_TOO = frozenset({"mp3", "mp2", "aac", "tta"})  # formats that may carry APEv2 beside or instead of ID3
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_NUMBER_PAIR = re.compile(r"^\s*(\d+)\s*(?:(?:/|of)\s*(\d+))?")
_MULTI_JOIN = "; "


def _number_pair(values: list[str] | None) -> tuple[int | None, int | None]:
    if not values:
        return None, None
    match = _NUMBER_PAIR.match(values[0])
    if not match:
        return None, None
    number, total = int(match.group(1)), match.group(2)
    return (number or None), (int(total) or None) if total else None


def _mbids(values: list[str] | None) -> tuple[str, ...]:
    found: list[str] = []
    for value in values or []:
        for part in re.split(r"[/;,\s]+", value.lower()):
            if _MBID.match(part) and part not in found:
                found.append(part)
    return tuple(found)


def _first_int(values: list[str] | None) -> int | None:
    return _number_pair(values)[0]


def _build(canonical: dict[str, list[str]], info: Any, has_art: bool, warnings: tuple[ScanWarning, ...]) -> Tags:
    def text(key: str) -> str | None:
        values = canonical.get(key)
        return _cut(_MULTI_JOIN.join(dict.fromkeys(values))) if values else None  # one column: one cap

    def one(key: str) -> str | None:
        ids = _mbids(canonical.get(key))
        return ids[0] if ids else None

    track, track_total = _number_pair(canonical.get("tracknumber"))
    disc, disc_total = _number_pair(canonical.get("discnumber"))
    length = getattr(info, "length", None)
    bitrate = getattr(info, "bitrate", None)
    return Tags(
        title=text("title"),
        artist=text("artist"),
        album=text("album"),
        album_artist=text("albumartist"),
        track_number=track,
        track_total=track_total or _first_int(canonical.get("tracktotal")),
        disc_number=disc,
        disc_total=disc_total or _first_int(canonical.get("disctotal")),
        date=next(iter(canonical.get("date") or ()), None),
        original_date=next(iter(canonical.get("originaldate") or ()), None),
        genre=text("genre"),
        artists=tuple(dict.fromkeys(canonical.get("artist", []))),
        musicbrainz_recording_id=one("mb_recording"),
        musicbrainz_release_id=one("mb_release"),
        musicbrainz_artist_ids=_mbids(canonical.get("mb_artist")),
        musicbrainz_albumartist_id=one("mb_albumartist"),
        musicbrainz_releasegroup_id=one("mb_releasegroup"),
        musicbrainz_releasetrack_id=one("mb_releasetrack"),
        duration_s=round(float(length), 6) if length and length > 0 else None,
        sample_rate=getattr(info, "sample_rate", None) or None,
        channels=getattr(info, "channels", None) or None,
        bitrate=int(bitrate) if bitrate else None,
        has_embedded_art=has_art,
        warnings=warnings,
    )


def plausible_duration(claimed: float | None, size: int) -> float | None:
    """The header's duration, or None when no encoding could fit that much audio into ``size`` bytes
    (or it is longer than :data:`MAX_DURATION_S`). A lying header must not set ``files.duration``
    nor stretch the analysis timeout that is derived from it."""
    if not claimed or claimed <= 0 or claimed > MAX_DURATION_S or claimed * MIN_BYTES_PER_SECOND > size:
        return None
    return claimed


def _cut(value: str) -> str:
    """``value`` cut to at most :data:`MAX_TAG_VALUE_BYTES` of UTF-8, at a character boundary."""
    return value.encode("utf-8", "surrogatepass")[:MAX_TAG_VALUE_BYTES].decode("utf-8", "ignore")


def _limit(canonical: dict[str, list[str]], shown: str, warnings: list[ScanWarning]) -> None:
    """Cap every field in place (see the module docstring); one warning names what was cut."""
    cut: list[str] = []
    for key, values in canonical.items():
        kept = values[:MAX_TAG_VALUES]
        capped = [v if len(v) * 4 <= MAX_TAG_VALUE_BYTES else _cut(v) for v in kept]
        if len(kept) < len(values) or capped != kept:
            longest = max(len(v.encode("utf-8", "surrogatepass")) for v in values)
            cut.append(f"{key} ({len(values)} values, longest {longest:,} bytes)")
            canonical[key] = capped
    if cut:
        warnings.append(
            ScanWarning(
                ErrorCode.TAG_READ_ERROR,
                shown,
                f"oversized tags cut to {MAX_TAG_VALUES} values of at most {MAX_TAG_VALUE_BYTES} bytes: "
                + ", ".join(cut),
            )
        )


def _load(path: str, fmt: str | None) -> Any:
    reader = _READERS.get(fmt or "")
    return reader(path) if reader is not None else mutagen.File(path)


def read_tags_and_picture(path: str | Path, fmt: str | None = None) -> tuple[Tags, bytes | None]:
    """Tags and the embedded front cover (or first picture) of one file; never raises.

    ``fmt`` is the format discovery found; it spares mutagen from guessing.
    """
    spath = str(path)
    shown = Path(spath).name
    warnings: list[ScanWarning] = []
    canonical: dict[str, list[str]] = {}
    info = None
    picture: bytes | None = None
    try:
        mf = _load(spath, fmt)
        if mf is None:
            warnings.append(ScanWarning(ErrorCode.TAG_READ_ERROR, shown, "no tag reader recognises this file"))
        else:
            info = mf.info
            canonical = canonical_from(mf.tags)
            pictures = pictures_from(mf)
            fronts = [data for kind, data in pictures if kind == FRONT_COVER] or [data for _, data in pictures]
            picture = fronts[0] if fronts else None
    except Exception as exc:  # mutagen and hostile bytes: anything may come out; the file goes on
        warnings.append(ScanWarning(ErrorCode.TAG_READ_ERROR, shown, f"tags unreadable: {plain_message(exc)}"))
    for extra in _extra_sources(spath, fmt, canonical, warnings):
        for key, values in extra.items():
            canonical.setdefault(key, values)  # the main tag wins; the others only fill gaps
    _limit(canonical, shown, warnings)
    tags = _build(canonical, info, picture is not None, tuple(warnings))
    if tags.duration_s is not None:
        try:
            size = os.path.getsize(spath)
        except OSError:
            size = 0
        duration = plausible_duration(tags.duration_s, size)
        if duration != tags.duration_s:
            tags = replace(tags, duration_s=duration)
    return tags, picture


def _extra_sources(path: str, fmt: str | None, canonical: dict[str, list[str]], warnings: list[ScanWarning]) -> list:
    extra: list[dict[str, list[str]]] = []
    try:
        if fmt == "wav":
            extra.append(riff_info(path))
        elif fmt in _APE_TOO and "title" not in canonical:
            with contextlib.suppress(mutagen.MutagenError):  # no APEv2 tag: the usual case
                extra.append(canonical_from(APEv2(path)))
    except Exception as exc:
        warnings.append(
            ScanWarning(ErrorCode.TAG_READ_ERROR, Path(path).name, f"extra tags unreadable: {plain_message(exc)}")
        )
    return extra


def read_tags(path: str | Path, fmt: str | None = None) -> Tags:
    """The tags of one file; never raises (see :func:`read_tags_and_picture`)."""
    return read_tags_and_picture(path, fmt)[0]
