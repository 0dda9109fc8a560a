"""Parsed service answers that release choice works from (internal to ``identify``).

AcoustID answers become :class:`AcoustIDCandidate` (a recording, its score, the releases it is
on); MusicBrainz release documents become :class:`ReleaseDoc` with one :class:`TrackDoc` per
track. :class:`ReleaseEvidence` is one vote "this passage's recording is track N of release R",
whichever service said so.
"""

from __future__ import annotations

from dataclasses import dataclass

from wkmp_ai.records.identify import ArtistCredit, RecordingInfo, ReleaseInfo

__all__ = ["AcoustIDCandidate", "ReleaseDoc", "ReleaseEvidence", "TrackDoc"]


@dataclass(frozen=True)
class ReleaseEvidence:
    release_mbid: str
    recording_mbid: str
    score: float = 1.0  # weight of the vote: AcoustID score, 1.0 for tags and MusicBrainz
    release_group_mbid: str | None = None
    title: str | None = None
    date: str | None = None
    country: str | None = None
    track_count: int | None = None  # over all media
    medium_count: int | None = None
    medium_position: int | None = None
    track_position: int | None = None

    def release_info(self) -> ReleaseInfo:
        return ReleaseInfo(
            mbid=self.release_mbid,
            title=self.title or "",
            date=self.date,
            track_count=self.track_count,
            release_group_mbid=self.release_group_mbid,
        )


@dataclass(frozen=True)
class AcoustIDCandidate:
    """One recording an AcoustID track points at, with that track's score."""

    recording_mbid: str
    score: float
    title: str | None = None
    duration_s: float | None = None
    artists: tuple[ArtistCredit, ...] = ()
    releases: tuple[ReleaseEvidence, ...] = ()


@dataclass(frozen=True)
class TrackDoc:
    medium_position: int
    position: int
    number: str | None
    title: str | None
    length_s: float | None
    recording: RecordingInfo


@dataclass(frozen=True)
class ReleaseDoc:
    mbid: str
    title: str
    date: str | None
    status: str | None
    release_group_mbid: str | None
    artist_credit: str | None
    track_count: int
    medium_count: int
    tracks: tuple[TrackDoc, ...]
    cover_art_artwork: bool | None = None  # the release's "cover-art-archive" flags; None = unknown
    cover_art_front: bool | None = None
    cover_art_back: bool | None = None
    primary_type: str | None = None  # of the release group: Album, Single, EP …
    secondary_types: tuple[str, ...] = ()  # Compilation, Live, Soundtrack …
    first_release_date: str | None = None  # of the release group

    def info(self) -> ReleaseInfo:
        return ReleaseInfo(
            mbid=self.mbid,
            title=self.title,
            date=self.date,
            track_count=self.track_count,
            release_group_mbid=self.release_group_mbid,
        )

    @property
    def complete(self) -> bool:
        """True when every track the media announce is present (large releases may be cut short)."""
        return len(self.tracks) >= self.track_count
