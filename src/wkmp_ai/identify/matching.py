"""Release choice: which release is this folder, and which track is each passage (pure functions).

Every passage collects :class:`~wkmp_ai.identify.evidence.ReleaseEvidence` — "my recording is
track N on medium M of release R" — from AcoustID, from MusicBrainz recording lookups and from
its tags. :func:`score_releases` ranks the releases the unresolved passages point at:

==========================  ==================================================================
votes                       Σ over passages of the best evidence score on that release
MBID in the tags            + (passages + 1): the user's own tagging wins
track count                 +1 when the release has as many tracks as the folder should
                            (``track_total`` tags, else the number of passages), else up to −1
positions                   + 0.5 × share of passages whose disc/track tags match the evidence
album title                 +0.5 equal to the album tag (normalised), +0.25 when one contains
                            the other
year                        +0.1 when the date tag's year matches
cached                      +0.01 (a free answer breaks ties)
==========================  ==================================================================

Ties go to the earliest release date, then the MBID, so a choice never flips between runs.
:func:`map_to_release` then pairs passages with the tracks of the fetched release: by recording
MBID (tags, then AcoustID), and for passages AcoustID could not place, by disc/track tags, by
title, or — for a file split into as many passages as the release has tracks — by order; the
last three only where the duration fits (±7 s or ±5 %).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wkmp_ai.identify.evidence import AcoustIDCandidate, ReleaseDoc, ReleaseEvidence, TrackDoc
from wkmp_ai.records.identify import AlbumGroup, FileToIdentify, PassageToIdentify, RecordingInfo, ReleaseInfo
from wkmp_ai.records.identify import normalize_text as norm

__all__ = [
    "PassageWork",
    "ReleaseCandidate",
    "Resolution",
    "duration_fits",
    "expected_track_count",
    "map_to_release",
    "score_releases",
]

DURATION_TOLERANCE_S = 7.0  # AcoustID's own default maxdurationdiff
DURATION_TOLERANCE_FRACTION = 0.05


@dataclass(frozen=True)
class Resolution:
    recording: RecordingInfo
    release: ReleaseInfo | None
    method: str
    score: float | None = None


@dataclass
class PassageWork:
    """What is known about one passage while its album is being identified."""

    file: FileToIdentify
    passage: PassageToIdentify
    index: int  # position of the passage within its file
    tag_recording: str | None = None  # MusicBrainz recording id from the tags (single-passage files only)
    acoustid: tuple[AcoustIDCandidate, ...] | None = None  # None: not asked (yet)
    evidence: list[ReleaseEvidence] = field(default_factory=list)
    excluded: set[str] = field(default_factory=set)  # releases already fetched that do not hold it
    recording_doc: dict[str, Any] | None = None  # a recording lookup made for it
    probed: bool = False
    resolved: Resolution | None = None
    blocked: str | None = None  # why it must wait for a later run
    blocked_by: str | None = None  # the service it waits for (acoustid: a tag search may still place it)
    problem: tuple[Any, str] | None = None  # (ErrorCode, message) if it ended without a match
    quiet: bool = False  # its problem was reported once for the whole group

    @property
    def single(self) -> bool:
        return len(self.file.passages) == 1

    @property
    def open(self) -> bool:
        return self.resolved is None and self.blocked is None

    def tag_position(self) -> tuple[int, int] | None:
        tags = self.file.tags
        if self.single and tags.track_number:
            return (tags.disc_number or 1, tags.track_number)
        return None

    def known_recording(self) -> str | None:
        if self.tag_recording:
            return self.tag_recording
        return self.acoustid[0].recording_mbid if self.acoustid else None


@dataclass(frozen=True)
class ReleaseCandidate:
    release_mbid: str
    score: float
    covered: tuple[int, ...]  # indexes into the passage list given to score_releases
    evidence: ReleaseEvidence  # a representative vote (title, date, track count)
    date: str | None = None  # earliest date any vote gives


def duration_fits(passage_s: float | None, track_s: float | None) -> bool:
    if passage_s is None or track_s is None:
        return True
    return abs(passage_s - track_s) <= max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_FRACTION * track_s)


def expected_track_count(group: AlbumGroup) -> int:
    """How many tracks the release should have: track_total tags (per disc, summed), else passages."""
    per_disc: dict[int, int] = {}
    for f in group.files:
        if f.tags.track_total:
            disc = f.tags.disc_number or 1
            per_disc[disc] = max(per_disc.get(disc, 0), f.tags.track_total)
    return sum(per_disc.values()) if per_disc else group.passage_count


def _year(date: str | None) -> str | None:
    return date[:4] if date and len(date) >= 4 else None


def score_releases(
    passages: Sequence[PassageWork],
    group: AlbumGroup,
    *,
    tag_releases: Iterable[str] = (),
    cached: Callable[[str], bool] = lambda _mbid: False,
) -> list[ReleaseCandidate]:
    best: dict[str, dict[int, ReleaseEvidence]] = {}
    for i, w in enumerate(passages):
        position = w.tag_position()
        for ev in w.evidence:
            if ev.release_mbid in w.excluded:
                continue
            slot = best.setdefault(ev.release_mbid, {})
            old = slot.get(i)
            key = (ev.score, position is not None and (ev.medium_position, ev.track_position) == position)
            if old is None or key > (old.score, (old.medium_position, old.track_position) == position):
                slot[i] = ev
    expected = expected_track_count(group)
    album = norm(group.album)
    years = {_year(f.tags.date) for f in group.files if f.tags.date}
    tagged = set(tag_releases)
    out = []
    for release, votes in best.items():
        evs = list(votes.values())
        score = sum(ev.score for ev in evs)
        if release in tagged:
            score += len(passages) + 1
        track_count = next((ev.track_count for ev in evs if ev.track_count), None)
        if track_count and expected:
            score += 1.0 if track_count == expected else -min(1.0, abs(track_count - expected) / expected)
        placed = [
            passages[i].tag_position() == (ev.medium_position, ev.track_position)
            for i, ev in votes.items()
            if passages[i].tag_position() is not None
        ]
        if placed:
            score += 0.5 * sum(placed) / len(placed)
        title = norm(next((ev.title for ev in evs if ev.title), None))
        if album and title:
            score += 0.5 if title == album else 0.25 if (album in title or title in album) else 0.0
        date = min((ev.date for ev in evs if ev.date), default=None)
        if years and _year(date) in years:
            score += 0.1
        if cached(release):
            score += 0.01
        representative = max(evs, key=lambda ev: (ev.title is not None, ev.track_count is not None, ev.date or ""))
        out.append(ReleaseCandidate(release, score, tuple(sorted(votes)), representative, date))
    out.sort(key=lambda c: (-round(c.score, 6), c.date or "9999", c.release_mbid))
    return out


def _ordered(release: ReleaseDoc) -> list[TrackDoc]:
    return sorted((t for t in release.tracks if t.position), key=lambda t: (t.medium_position, t.position))


def map_to_release(passages: Sequence[PassageWork], release: ReleaseDoc) -> list[tuple[PassageWork, TrackDoc, str]]:
    """(passage, track, method) for every passage this release accounts for."""
    by_recording: dict[str, list[TrackDoc]] = {}
    by_position: dict[tuple[int, int], TrackDoc] = {}
    by_title: dict[str, list[TrackDoc]] = {}
    for t in release.tracks:
        by_recording.setdefault(t.recording.mbid, []).append(t)
        if t.position:
            by_position[(t.medium_position, t.position)] = t
        by_title.setdefault(norm(t.title or t.recording.title), []).append(t)
    used: set[tuple[int, int, str]] = set()
    out: list[tuple[PassageWork, TrackDoc, str]] = []

    def take(w: PassageWork, track: TrackDoc, method: str) -> None:
        used.add((track.medium_position, track.position, track.recording.mbid))
        out.append((w, track, method))

    def pick(tracks: list[TrackDoc], w: PassageWork) -> TrackDoc:
        free = [t for t in tracks if (t.medium_position, t.position, t.recording.mbid) not in used] or tracks
        position = w.tag_position()
        return next((t for t in free if (t.medium_position, t.position) == position), free[0])

    later: list[PassageWork] = []
    for w in passages:
        if w.tag_recording and w.tag_recording in by_recording:
            take(w, pick(by_recording[w.tag_recording], w), "tags")
            continue
        on_release = [c for c in w.acoustid or () if c.recording_mbid in by_recording]
        if on_release:
            take(w, pick(by_recording[on_release[0].recording_mbid], w), "acoustid")
            continue
        if w.acoustid or w.tag_recording:
            continue  # AcoustID or the tags name a recording that is not on this release
        later.append(w)

    leftover: list[PassageWork] = []
    for w in later:
        position = w.tag_position()
        track = by_position.get(position) if position else None
        if track is not None and duration_fits(w.passage.duration_s, track.length_s):
            take(w, track, "release-tags")
            continue
        titled = by_title.get(norm(w.file.tags.title)) if w.single and w.file.tags.title else None
        if titled:
            track = pick(titled, w)
            if duration_fits(w.passage.duration_s, track.length_s):
                take(w, track, "release-title")
                continue
        leftover.append(w)

    # A file split into exactly as many passages as the release has tracks: pair them in order.
    ordered = _ordered(release)
    for file_id in dict.fromkeys(w.file.file_id for w in leftover):
        members = [w for w in leftover if w.file.file_id == file_id]
        if len(members[0].file.passages) != len(ordered) or len(members) != len(ordered):
            continue
        pairs = list(zip(sorted(members, key=lambda w: w.index), ordered, strict=True))
        if all(duration_fits(w.passage.duration_s, t.length_s) for w, t in pairs):
            for w, t in pairs:
                take(w, t, "release-order")
    return out
