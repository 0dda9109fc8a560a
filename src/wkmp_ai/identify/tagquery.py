"""What a folder's tags and names say, gathered for a MusicBrainz search (pure functions).

:func:`describe_group` reads the passages still open after the fingerprint path and gives an
:class:`AlbumQuery`: the album, its artist, year and track total by majority of the tags, each
file as a :class:`TrackQuery` (title, artist, disc/track numbers, the measured duration). Where the
tags say nothing, file and folder names (:func:`wkmp_ai.scan.names.name_hints`) fill in — marked
``from_names``, because names are weak evidence. :func:`release_query` and
:func:`recording_query` turn them into Lucene queries (:mod:`wkmp_ai.identify.mbsearch`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wkmp_ai.identify.matching import DURATION_TOLERANCE_FRACTION, DURATION_TOLERANCE_S, PassageWork
from wkmp_ai.identify.mbsearch import VARIOUS_ARTISTS, phrase
from wkmp_ai.records.identify import normalize_text
from wkmp_ai.scan.names import name_hints

__all__ = ["AlbumQuery", "TrackQuery", "describe_group", "recording_query", "release_query"]

MAJORITY = 0.6  # share of files that must agree on an artist for it to be the album's artist


@dataclass(frozen=True)
class TrackQuery:
    """One open passage as its tags (or, failing those, its file name) describe it."""

    ref: int  # index into the works given to describe_group
    title: str | None
    artist: str | None
    track: int | None
    disc: int | None
    duration_s: float | None
    title_from_name: bool = False


@dataclass(frozen=True)
class AlbumQuery:
    album: str | None
    artist: str | None
    year: str | None
    track_total: int | None  # from track_total tags only: the release's own count
    items: tuple[TrackQuery, ...]
    various: bool = False  # the tags name several artists and no album artist: a compilation
    album_from_names: bool = False
    artist_from_names: bool = False
    disc_folder: bool = False  # the folder holds one disc of a larger release

    @property
    def expected_tracks(self) -> int:
        return self.track_total or len(self.items)

    @property
    def from_names(self) -> bool:
        """File and folder names carry the album or most titles (the method is ``name_search``)."""
        named = sum(1 for i in self.items if i.title_from_name)
        return self.album_from_names or 2 * named > len(self.items)

    @property
    def weak(self) -> bool:
        """Names, or durations and positions without titles, carry the evidence: the higher bar."""
        untitled = sum(1 for i in self.items if not i.title)
        return self.from_names or 2 * untitled > len(self.items)


def _year(date: str | None) -> str | None:
    return date[:4] if date and len(date) >= 4 and date[:4].isdigit() else None


def _majority(values: Iterable[str | None], *, share: float = 0.5) -> str | None:
    """The most common value (compared normalised) if more than ``share`` of the files agree."""
    given = [v for v in values if v and v.strip()]
    if not given:
        return None
    counts = Counter(normalize_text(v) for v in given)
    key, n = counts.most_common(1)[0]
    if n <= share * len(given) and len(counts) > 1:
        return None
    return next(v for v in given if normalize_text(v) == key)


def describe_group(works: Sequence[PassageWork], album_tag: str | None) -> AlbumQuery:
    """The search description of ``works`` (open passages of one album group)."""
    items = []
    files = list(dict.fromkeys(w.file.file_id for w in works))
    one_split_file = len(files) == 1 and len(works[0].file.passages) > 1
    hints = {w.file.file_id: name_hints(w.file.rel_path) for w in works}
    for ref, w in enumerate(works):
        tags, hint = w.file.tags, hints[w.file.file_id]
        if w.single:
            title = tags.title or hint.title
            items.append(
                TrackQuery(
                    ref=ref,
                    title=title,
                    artist=tags.artist,
                    track=tags.track_number or hint.track,
                    disc=tags.disc_number or hint.disc,
                    duration_s=w.passage.duration_s,
                    title_from_name=not tags.title and bool(hint.title),
                )
            )
        elif one_split_file:  # a side or a whole album in one file: the passages in order
            p = w.passage  # a rip's cue sheet names each track (docs/cue.md)
            track = p.track_number or w.index + 1
            items.append(TrackQuery(ref, p.title, p.artist or tags.artist, track, tags.disc_number, p.duration_s))
    tags_of = [w.file.tags for w in works]
    album = album_tag or _majority(t.album for t in tags_of)
    album_from_names = False
    if not album:
        album = _majority(h.album for h in hints.values())
        album_from_names = album is not None
    album_artist = _majority(t.album_artist for t in tags_of)
    track_artists = [t.artist for t in tags_of if t.artist]
    artist = album_artist or _majority(track_artists, share=MAJORITY)
    various = (album_artist or "").casefold() in VARIOUS_ARTISTS if album_artist else bool(track_artists) and not artist
    artist_from_names = False
    if not artist and not track_artists:
        artist = _majority(h.artist for h in hints.values())
        artist_from_names = artist is not None
    if artist and artist.casefold() in VARIOUS_ARTISTS:
        artist, various = None, True
    year = _majority(_year(t.date) for t in tags_of) or _majority(h.year for h in hints.values())
    totals: dict[int, int] = {}
    for t in tags_of:
        if t.track_total:
            totals[t.disc_number or 1] = max(totals.get(t.disc_number or 1, 0), t.track_total)
    discs = {i.disc for i in items if i.disc}
    disc_total = max((t.disc_total or 0 for t in tags_of), default=0)
    disc_folder = any(h.disc_folder for h in hints.values()) or (len(discs) == 1 and disc_total > 1)
    return AlbumQuery(
        album=album,
        artist=artist,
        year=year,
        track_total=sum(totals.values()) if totals and not disc_folder else None,
        items=tuple(items),
        various=various,
        album_from_names=album_from_names,
        artist_from_names=artist_from_names,
        disc_folder=disc_folder,
    )


def release_query(q: AlbumQuery) -> str | None:
    """``release:"…" AND artist:"…" AND tracks:N date:YYYY`` — None without an album title.

    The track count is required only when the tags give the release's total (a folder may hold
    part of an album); otherwise it, like the year, only ranks the answers.
    """
    album = phrase(q.album) if q.album else None
    if album is None:
        return None
    required = [f"release:{album}"]
    optional = []
    artist = phrase(q.artist) if q.artist else None
    if artist is not None:
        required.append(f"artist:{artist}")
    elif q.various:
        required.append('artist:"Various Artists"')
    if q.track_total:
        required.append(f"tracks:{q.track_total}")
    elif not q.disc_folder:
        optional.append(f"tracks:{len(q.items)}")
    if q.year:
        optional.append(f"date:{q.year}")
    return " ".join([" AND ".join(required), *optional])


def loose_release_query(q: AlbumQuery) -> str | None:
    """A second try when the exact phrases find nothing: the words of the album title and of the
    artist, each field needing any one of them (``release:(albm 3) AND artist:(artst 3)``) — a
    typo, a word more or less (``Album (2011 Remaster)``) — ranked by how many match."""

    def words(text: str | None) -> str | None:
        quoted = phrase(text, strip_notes=False) if text else None
        return "(" + " ".join(quoted[1:-1].lower().split()) + ")" if quoted else None  # "AND" is not a word

    album, artist = words(q.album), words(q.artist)
    if album is None:
        return None
    return f"release:{album} AND artist:{artist}" if artist else f"release:{album}"


def duration_window_ms(duration_s: float) -> tuple[int, int]:
    margin = max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_FRACTION * duration_s)
    return max(0, math.floor((duration_s - margin) * 1000)), math.ceil((duration_s + margin) * 1000)


def recording_query(item: TrackQuery, artist: str | None, album: str | None) -> str | None:
    """``recording:"…" AND artist:"…" AND dur:[a TO b] release:"…"`` — None without title and artist."""
    title = phrase(item.title, strip_notes=False) if item.title else None
    who = phrase(artist) if artist else None
    if title is None or who is None:
        return None
    required = [f"recording:{title}", f"artist:{who}"]
    if item.duration_s:
        low, high = duration_window_ms(item.duration_s)
        required.append(f"dur:[{low} TO {high}]")
    on = phrase(album) if album else None
    return " AND ".join(required) + (f" release:{on}" if on else "")
