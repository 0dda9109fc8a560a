"""MusicBrainz search (``/ws/2/release?query=…``, ``/ws/2/recording?query=…``): queries and answers.

Queries use MusicBrainz's Lucene syntax (https://musicbrainz.org/doc/Indexed_Search_Syntax).
Every value is quoted as a phrase with Lucene's special characters escaped, so a title such as
``AC/DC: Live [1992]`` or ``"Heroes"`` cannot change the query's meaning. Clauses joined by
``AND`` must match; the others only raise a result's score::

    release:"Album" AND artist:"Artist" AND tracks:12 date:1993        (tracks required: tagged total)
    recording:"Title" AND artist:"Artist" AND dur:[171000 TO 185000] release:"Album"

Answers are trimmed to the fields release choice reads (MusicBrainz's own names) before they are
cached, and parsed into :class:`SearchRelease` / :class:`SearchRecording`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wkmp_ai.identify.musicbrainz import is_mbid

__all__ = [
    "RECORDING_SEARCH_LIMIT",
    "RELEASE_SEARCH_LIMIT",
    "SearchRecording",
    "SearchRelease",
    "escape_lucene",
    "parse_recording_search",
    "parse_release_search",
    "phrase",
    "trim_search",
]

RELEASE_SEARCH_LIMIT = 10
RECORDING_SEARCH_LIMIT = 10
VARIOUS_ARTISTS = frozenset({"various artists", "various", "va"})

_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')
_FEATURING = re.compile(r"\s*[(\[]?\b(?:feat|ft|featuring)\b\.?\s.*$", re.IGNORECASE)
_NOTE = re.compile(r"\s*[(\[][^)\]]*[)\]]\s*$")


def escape_lucene(text: str) -> str:
    """``text`` with every Lucene special character backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", text)


def phrase(text: str, *, strip_notes: bool = True) -> str | None:
    """A quoted, escaped phrase for a query, or None when nothing searchable is left.

    A featured-artist note, and (``strip_notes``) trailing bracketed notes such as
    ``(Remastered)``, are left out: MusicBrainz often spells them differently or not at all, and
    a phrase must match word for word. The distance still compares the full texts.
    """
    text = _FEATURING.sub("", text.strip())
    if strip_notes:
        while (cut := _NOTE.sub("", text)) != text and cut.strip():
            text = cut
    text = " ".join(text.split())
    if not re.search(r"\w", text):
        return None
    return f'"{escape_lucene(text)}"'


# --- answers --------------------------------------------------------------------------------


def _credit(credit: Any) -> tuple[str | None, tuple[str, ...]]:
    parts, ids = [], []
    for c in credit or ():
        if not isinstance(c, dict):
            continue
        artist: dict[str, Any] = c["artist"] if isinstance(c.get("artist"), dict) else {}
        parts.append(f"{c.get('name') or artist.get('name') or ''}{c.get('joinphrase') or ''}")
        if is_mbid(artist.get("id")):
            ids.append(str(artist["id"]))
    return ("".join(parts).strip() or None), tuple(ids)


def _trim_credit(credit: Any) -> list[dict[str, Any]]:
    out = []
    for c in credit or ():
        if isinstance(c, dict):
            artist: dict[str, Any] = c["artist"] if isinstance(c.get("artist"), dict) else {}
            out.append(
                {
                    "name": c.get("name"),
                    "joinphrase": c.get("joinphrase", ""),
                    "artist": {k: artist.get(k) for k in ("id", "name") if k in artist},
                }
            )
    return out


def _trim_group(rg: Any) -> dict[str, Any]:
    rg = rg if isinstance(rg, dict) else {}
    return {k: rg.get(k) for k in ("id", "title", "primary-type", "secondary-types") if k in rg}


def _trim_release(rel: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "score", "title", "status", "date", "country", "track-count")
    out: dict[str, Any] = {k: rel.get(k) for k in keys if k in rel}
    if "artist-credit" in rel:
        out["artist-credit"] = _trim_credit(rel["artist-credit"])
    if "release-group" in rel:
        out["release-group"] = _trim_group(rel["release-group"])
    media = []
    for m in rel.get("media") or ():
        if not isinstance(m, dict):
            continue
        medium = {k: m.get(k) for k in ("position", "format", "track-count", "track-offset") if k in m}
        tracks = m.get("track") if isinstance(m.get("track"), list) else m.get("tracks")
        if isinstance(tracks, list):
            medium["track"] = [
                {k: t.get(k) for k in ("id", "number", "title", "length") if k in t}
                for t in tracks
                if isinstance(t, dict)
            ]
        media.append(medium)
    if media:
        out["media"] = media
    return out


def _trim_recording(rec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: rec.get(k) for k in ("id", "score", "title", "length", "disambiguation") if k in rec}
    if "artist-credit" in rec:
        out["artist-credit"] = _trim_credit(rec["artist-credit"])
    out["releases"] = [_trim_release(r) for r in rec.get("releases") or () if isinstance(r, dict)]
    return out


def trim_search(entity: str, page: dict[str, Any]) -> list[dict[str, Any]]:
    """The results of one search answer, trimmed for the cache (``entity``: release or recording)."""
    key = f"{entity}s"
    trim = _trim_release if entity == "release" else _trim_recording
    return [trim(r) for r in page.get(key) or () if isinstance(r, dict) and is_mbid(r.get("id"))]


@dataclass(frozen=True)
class SearchRelease:
    """A release as a search answer shows it (no track list). For a recording's release, the
    medium and track position of that recording too."""

    mbid: str
    title: str
    artist: str | None
    artist_ids: tuple[str, ...]
    date: str | None
    country: str | None
    status: str | None
    track_count: int | None
    formats: tuple[str, ...]
    release_group_mbid: str | None
    primary_type: str | None
    secondary_types: tuple[str, ...]
    score: int = 0
    medium_position: int | None = None
    track_position: int | None = None

    @property
    def compilation(self) -> bool:
        return "Compilation" in self.secondary_types

    @property
    def various(self) -> bool:
        return (self.artist or "").strip().casefold() in VARIOUS_ARTISTS

    @property
    def kind(self) -> str:
        """``Album``, ``Album + Compilation``, ``Single`` … for people to read."""
        return " + ".join([self.primary_type or "Release", *self.secondary_types])


@dataclass(frozen=True)
class SearchRecording:
    mbid: str
    title: str
    artist: str | None
    artist_ids: tuple[str, ...]
    length_s: float | None
    score: int
    releases: tuple[SearchRelease, ...]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _release(rel: dict[str, Any]) -> SearchRelease:
    artist, ids = _credit(rel.get("artist-credit"))
    rg: dict[str, Any] = rel["release-group"] if isinstance(rel.get("release-group"), dict) else {}
    media = [m for m in rel.get("media") or () if isinstance(m, dict)]
    medium_position = track_position = None
    for m in media:
        if isinstance(m.get("track-offset"), int):
            medium_position = _int(m.get("position")) or 1
            track_position = m["track-offset"] + 1
            break
    count = _int(rel.get("track-count"))
    if count is None and media:
        count = sum(_int(m.get("track-count")) or 0 for m in media) or None
    return SearchRelease(
        mbid=str(rel["id"]),
        title=str(rel.get("title") or ""),
        artist=artist,
        artist_ids=ids,
        date=rel.get("date") or None,
        country=rel.get("country") or None,
        status=rel.get("status") or None,
        track_count=count,
        formats=tuple(str(m["format"]) for m in media if m.get("format")),
        release_group_mbid=rg.get("id"),
        primary_type=rg.get("primary-type"),
        secondary_types=tuple(str(t) for t in rg.get("secondary-types") or () if t),
        score=_int(rel.get("score")) or 0,
        medium_position=medium_position,
        track_position=track_position,
    )


def parse_release_search(results: Iterable[dict[str, Any]]) -> list[SearchRelease]:
    return [_release(r) for r in results if isinstance(r, dict) and is_mbid(r.get("id"))]


def parse_recording_search(results: Iterable[dict[str, Any]]) -> list[SearchRecording]:
    out = []
    for rec in results:
        if not isinstance(rec, dict) or not is_mbid(rec.get("id")):
            continue
        artist, ids = _credit(rec.get("artist-credit"))
        length = rec.get("length")
        out.append(
            SearchRecording(
                mbid=str(rec["id"]),
                title=str(rec.get("title") or ""),
                artist=artist,
                artist_ids=ids,
                length_s=length / 1000.0 if isinstance(length, int | float) and length > 0 else None,
                score=_int(rec.get("score")) or 0,
                releases=tuple(parse_release_search(rec.get("releases") or ())),
            )
        )
    return out
