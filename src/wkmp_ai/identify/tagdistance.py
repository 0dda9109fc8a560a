"""Tag distance: how well a release or recording found by a search fits what the tags say.

A weighted mean of component distances, each from 0 (agrees) to 1 (contradicts), in the manner
of beets' autotagger; confidence is ``1 − distance`` (docs/identify.md, *Tag distance*):

===========================  ======  ===========================================================
album title                  3       string distance (accents, case, punctuation, feat. ignored)
album artist                 3       string distance; a Various Artists release compares each
                                     track's artist instead (per track, weight 2)
each paired file             2       its track distance (below)
each file left unpaired      1       1.0
each release track unpaired  0.25    1.0 (only on the discs the folder holds)
year                         1       0 when it equals the release's or its group's first year,
                                     else |Δ| / 10 years (at most 1)
compilation                  3       1.0 when the release group is a Compilation and the
                                     folder is not (a "Greatest Hits" never beats the album)
status                       0.5     1.0 unless Official
===========================  ======  ===========================================================

Track distance (a file against one track): title 3, length 2 (nothing within 3 s, all at 23 s),
track number 1 (per disc or over the release), disc 1, artist 2 (Various Artists releases only).
A file is paired with a track only when their durations fit (±7 s or ±5 %, the audio's own
evidence), the track distance is at most 0.35, and — for a file known only by its number — the
numbers agree; exact titles pair first, then the closest.
:func:`search_bound` is the same distance for a search answer, assuming every file pairs
perfectly: a lower bound that orders which releases are worth fetching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wkmp_ai.identify.evidence import ReleaseDoc, TrackDoc
from wkmp_ai.identify.matching import duration_fits
from wkmp_ai.identify.mbsearch import VARIOUS_ARTISTS, SearchRecording, SearchRelease
from wkmp_ai.identify.tagquery import AlbumQuery, TrackQuery
from wkmp_ai.identify.textdist import string_distance
from wkmp_ai.records.identify import normalize_text

__all__ = [
    "ACCEPT",
    "ACCEPT_NAMES",
    "ReleaseMatch",
    "rank_releases",
    "recording_distance",
    "release_distance",
    "release_for_recording",
    "search_bound",
    "track_distance",
]

ACCEPT = 0.85  # confidence needed to choose a release found by tags (docs/identify.md: why)
ACCEPT_NAMES = 0.90  # … when the album or most titles come from file and folder names
MAX_TRACK_DISTANCE = 0.35
LENGTH_GRACE_S = 3.0
LENGTH_SPAN_S = 20.0

W_ALBUM, W_ARTIST, W_PAIRED, W_UNPAIRED, W_MISSING = 3.0, 3.0, 2.0, 1.0, 0.25
W_YEAR, W_COMPILATION, W_STATUS = 1.0, 3.0, 0.5
WT_TITLE, WT_LENGTH, WT_INDEX, WT_DISC, WT_ARTIST = 3.0, 2.0, 1.0, 1.0, 2.0


def _mean(parts: Sequence[tuple[float, float]]) -> float:
    total = sum(w for w, _ in parts)
    return sum(w * d for w, d in parts) / total if total else 1.0


def _year(date: str | None) -> int | None:
    return int(date[:4]) if date and len(date) >= 4 and date[:4].isdigit() else None


def _year_distance(wanted: str | None, *dates: str | None) -> float | None:
    year = _year(wanted)
    if year is None:
        return None
    known = [y for y in map(_year, dates) if y is not None]
    if not known:
        return None
    return 0.0 if year in known else min(1.0, min(abs(year - y) for y in known) / 10.0)


def _various(artist: str | None) -> bool:
    return (artist or "").strip().casefold() in VARIOUS_ARTISTS


def _release_parts(
    q: AlbumQuery,
    *,
    title: str,
    artist: str | None,
    dates: tuple[str | None, ...],
    compilation: bool | None,
    status: str | None,
) -> list[tuple[float, float]]:
    parts: list[tuple[float, float]] = []
    if q.album:
        parts.append((W_ALBUM, string_distance(q.album, title)))
    if q.artist:  # one artist's folder never fits a Various Artists release
        parts.append((W_ARTIST, 1.0 if _various(artist) else string_distance(q.artist, artist)))
    elif q.various:
        parts.append((W_ARTIST, 0.0 if _various(artist) else 1.0))
    if (year := _year_distance(q.year, *dates)) is not None:
        parts.append((W_YEAR, year))
    if compilation is not None:
        parts.append((W_COMPILATION, 1.0 if compilation and not q.various else 0.0))
    if status:
        parts.append((W_STATUS, 0.0 if status == "Official" else 1.0))
    return parts


def search_bound(q: AlbumQuery, rel: SearchRelease, sibling: ReleaseMatch | None = None) -> float:
    """The least distance ``rel`` could have once its tracks are known: every file pairing
    perfectly — or, given a fetched ``sibling`` of the same release group and track count (a
    re-release of the same track list), pairing as well as with that sibling."""
    parts = _release_parts(
        q, title=rel.title, artist=rel.artist, dates=(rel.date,), compilation=rel.compilation, status=rel.status
    )
    files = len(q.items)
    count = rel.track_count
    if sibling is not None:
        parts += [(W_PAIRED, d) for _, _, d in sibling.pairs] + [(W_UNPAIRED, 1.0)] * (files - len(sibling.pairs))
        if not q.disc_folder and count is not None:
            parts += [(W_MISSING, 1.0)] * max(0, count - len(sibling.pairs))
    elif count is None:
        parts += [(W_PAIRED, 0.0)] * files
    else:
        paired = min(files, count)
        parts += [(W_PAIRED, 0.0)] * paired + [(W_UNPAIRED, 1.0)] * (files - paired)
        if not q.disc_folder:
            parts += [(W_MISSING, 1.0)] * (count - paired)
    return _mean(parts)


def track_distance(item: TrackQuery, track: TrackDoc, *, index: int, various: bool, media: int) -> float:
    """How far a file is from one track (``index``: the track's position over the whole release)."""
    parts: list[tuple[float, float]] = []
    if item.title:
        parts.append((WT_TITLE, string_distance(item.title, track.title or track.recording.title)))
    if item.duration_s and track.length_s:
        excess = abs(item.duration_s - track.length_s) - LENGTH_GRACE_S
        parts.append((WT_LENGTH, min(1.0, max(0.0, excess) / LENGTH_SPAN_S)))
    if item.track:
        parts.append((WT_INDEX, 0.0 if item.track in (track.position, index) else 1.0))
    if item.disc and media > 1:
        parts.append((WT_DISC, 0.0 if item.disc == track.medium_position else 1.0))
    if various and item.artist:
        parts.append((WT_ARTIST, string_distance(item.artist, track.recording.artist_display)))
    return _mean(parts)


@dataclass(frozen=True)
class ReleaseMatch:
    release: ReleaseDoc
    distance: float
    pairs: tuple[tuple[int, TrackDoc, float], ...]  # (item ref, track, track distance)
    search: SearchRelease | None = None

    @property
    def confidence(self) -> float:
        return round(1.0 - self.distance, 4)


def _pair(q: AlbumQuery, doc: ReleaseDoc, various: bool) -> list[tuple[TrackQuery, TrackDoc, float]]:
    ordered = sorted((t for t in doc.tracks if t.position), key=lambda t: (t.medium_position, t.position))
    index = {id(t): i for i, t in enumerate(ordered, 1)}
    free = list(ordered)
    pairs: list[tuple[TrackQuery, TrackDoc, float]] = []

    def cost(item: TrackQuery, track: TrackDoc) -> float | None:
        if not duration_fits(item.duration_s, track.length_s):
            return None  # the audio says no, whatever the names say
        if not item.title and item.track and item.track not in (track.position, index[id(track)]):
            return None  # a number is all it has: it must be this track's
        d = track_distance(item, track, index=index[id(track)], various=various, media=doc.medium_count)
        return d if d <= MAX_TRACK_DISTANCE else None

    rest = []
    for item in q.items:  # exact titles first: cheap, and nearly every file of a well-tagged album
        title = normalize_text(item.title)
        same = [t for t in free if title and normalize_text(t.title or t.recording.title) == title]
        same.sort(key=lambda t: item.track not in (t.position, index[id(t)]))
        found = next(((t, d) for t in same if (d := cost(item, t)) is not None), None)
        if found is None:
            rest.append(item)
            continue
        free.remove(found[0])
        pairs.append((item, *found))
    options = sorted(
        ((d, n, item, t) for n, item in enumerate(rest) for t in free if (d := cost(item, t)) is not None),
        key=lambda o: (o[0], o[1], o[3].medium_position, o[3].position),
    )
    taken_items: set[int] = set()
    taken_tracks: set[int] = set()
    for d, _, item, track in options:
        if item.ref in taken_items or id(track) in taken_tracks:
            continue
        taken_items.add(item.ref)
        taken_tracks.add(id(track))
        pairs.append((item, track, d))
    return pairs


def release_distance(q: AlbumQuery, doc: ReleaseDoc, search: SearchRelease | None = None) -> ReleaseMatch:
    """The full distance of a fetched release: release terms plus every file paired with a track."""
    various = _various(doc.artist_credit)
    compilation = (
        "Compilation" in doc.secondary_types
        if doc.primary_type or doc.secondary_types
        else (search.compilation if search else None)
    )
    parts = _release_parts(
        q,
        title=doc.title,
        artist=doc.artist_credit,
        dates=(doc.date, doc.first_release_date),
        compilation=compilation,
        status=doc.status,
    )
    pairs = _pair(q, doc, various)
    parts += [(W_PAIRED, d) for _, _, d in pairs]
    parts += [(W_UNPAIRED, 1.0)] * (len(q.items) - len(pairs))
    discs = {i.disc for i in q.items if i.disc} if q.disc_folder else set()
    on_our_discs = [t for t in doc.tracks if not discs or t.medium_position in discs]
    parts += [(W_MISSING, 1.0)] * max(0, len(on_our_discs) - len(pairs))
    return ReleaseMatch(doc, _mean(parts), tuple((i.ref, t, d) for i, t, d in pairs), search)


def recording_distance(item: TrackQuery, artist: str | None, album: str | None, rec: SearchRecording) -> float:
    """How far a recording search answer is from one file (1.0 when the durations do not fit)."""
    if not duration_fits(item.duration_s, rec.length_s):
        return 1.0
    parts: list[tuple[float, float]] = [(WT_TITLE, string_distance(item.title, rec.title))]
    if artist:
        parts.append((W_ARTIST, string_distance(artist, rec.artist)))
    if item.duration_s and rec.length_s:
        excess = abs(item.duration_s - rec.length_s) - LENGTH_GRACE_S
        parts.append((WT_LENGTH, min(1.0, max(0.0, excess) / LENGTH_SPAN_S)))
    if album and rec.releases:
        parts.append((1.0, min(string_distance(album, r.title) for r in rec.releases)))
    return _mean(parts)


def rank_releases(rec: SearchRecording, album: str | None, year: str | None = None) -> list[SearchRelease]:
    """The releases of a single's recording, likeliest first: the one its album tag names (of its
    year, if tagged), else the earliest official album that is not a compilation."""

    def key(r: SearchRelease) -> tuple[float, bool, bool, bool, bool, str, str]:
        named = round(string_distance(album, r.title), 3) if album else 0.0
        other_year = bool(year) and (r.date or "")[:4] != year
        return (
            named,
            other_year,
            r.compilation,
            r.status != "Official",
            r.primary_type != "Album",
            r.date or "9999",
            r.mbid,
        )

    return sorted(rec.releases, key=key)


def release_for_recording(rec: SearchRecording, album: str | None, year: str | None = None) -> SearchRelease | None:
    ranked = rank_releases(rec, album, year)
    return ranked[0] if ranked else None
