"""The typed records that go into identification and come out of it.

Input: one :class:`FileToIdentify` per analysed file (its tags, its passages with their
fingerprints), gathered into an :class:`AlbumGroup` (the files of one folder and album tag).
Output: one :class:`AlbumIdentification` per group, a plain value that
:func:`wkmp_ai.db.identify.write_identification` turns into rows. Nothing here does I/O.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from wkmp_ai.errors import ErrorCode
from wkmp_ai.records.scan import Tags

__all__ = [
    "AlbumGroup",
    "AlbumIdentification",
    "ArtImage",
    "ArtistCredit",
    "CacheWrites",
    "CandidateRelease",
    "FileCandidates",
    "FileTags",
    "FileToIdentify",
    "IdentifyWarning",
    "PassageIdentification",
    "PassageStatus",
    "PassageToIdentify",
    "RecordingInfo",
    "ReleaseInfo",
    "WorkInfo",
    "group_files",
    "group_key",
    "normalize_text",
]


def normalize_text(text: str | None) -> str:
    """Case-, accent- and punctuation-insensitive form of a title, for comparisons only."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", " ", stripped).strip()


# ---------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileTags:
    """The tags of one file that identification uses; every field may be missing."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    track_number: int | None = None
    track_total: int | None = None
    disc_number: int | None = None
    disc_total: int | None = None
    date: str | None = None
    duration_s: float | None = None
    musicbrainz_recording_id: str | None = None
    musicbrainz_release_id: str | None = None
    musicbrainz_artist_ids: tuple[str, ...] = ()
    musicbrainz_album_artist_ids: tuple[str, ...] = ()

    @classmethod
    def from_tags(cls, tags: Tags, *, duration_s: float | None) -> FileTags:
        """What identification uses of a file's tags; the duration is the decoded one, not the header's."""
        album_artist_id = tags.musicbrainz_albumartist_id
        values: dict[str, Any] = {f.name: getattr(tags, f.name) for f in fields(cls) if hasattr(tags, f.name)}
        values["duration_s"] = duration_s
        values["musicbrainz_album_artist_ids"] = (album_artist_id,) if album_artist_id else ()
        return cls(**values)


@dataclass(frozen=True)
class PassageToIdentify:
    """One passage as the analysis wrote it: ticks from the file start, a Chromaprint string (or None)."""

    passage_id: str
    fingerprint: str | None
    duration_s: float
    start_ticks: int
    end_ticks: int
    # From the rip's track index (docs/cue.md), when the file has one: the track's own tags.
    title: str | None = None
    artist: str | None = None
    track_number: int | None = None


@dataclass(frozen=True)
class FileToIdentify:
    file_id: str
    rel_path: str
    folder: str
    tags: FileTags
    passages: tuple[PassageToIdentify, ...]
    has_folder_art: bool = False
    disc_id: str | None = None  # MusicBrainz Disc ID of a whole-disc rip's index, and its TOC (docs/cue.md)
    disc_toc: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FileToIdentify:
        doc = json.loads(text)
        tags = dict(doc["tags"])
        tags["musicbrainz_artist_ids"] = tuple(tags.get("musicbrainz_artist_ids") or ())
        tags["musicbrainz_album_artist_ids"] = tuple(tags.get("musicbrainz_album_artist_ids") or ())
        known = FileTags.__dataclass_fields__
        return cls(
            file_id=doc["file_id"],
            rel_path=doc["rel_path"],
            folder=doc["folder"],
            tags=FileTags(**{k: v for k, v in tags.items() if k in known}),
            passages=tuple(PassageToIdentify(**p) for p in doc["passages"]),
            has_folder_art=bool(doc.get("has_folder_art", False)),
            disc_id=doc.get("disc_id"),
            disc_toc=doc.get("disc_toc"),
        )


@dataclass(frozen=True)
class AlbumGroup:
    """Files that probably form one album: same folder and same album tag."""

    key: str
    folder: str
    album: str | None
    files: tuple[FileToIdentify, ...]

    @property
    def passage_count(self) -> int:
        return sum(len(f.passages) for f in self.files)


def group_key(folder: str, album: str | None) -> str:
    return f"{folder}\n{normalize_text(album)}"


def group_files(files: Iterable[FileToIdentify]) -> list[AlbumGroup]:
    """Group files by folder and album tag (files without an album tag group by folder alone)."""
    buckets: dict[str, list[FileToIdentify]] = defaultdict(list)
    for f in files:
        buckets[group_key(f.folder, f.tags.album)].append(f)
    groups = []
    for key, members in sorted(buckets.items()):
        members.sort(key=lambda f: (f.tags.disc_number or 0, f.tags.track_number or 0, f.rel_path))
        album = next((f.tags.album for f in members if f.tags.album), None)
        groups.append(AlbumGroup(key=key, folder=members[0].folder, album=album, files=tuple(members)))
    return groups


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


class PassageStatus(StrEnum):
    IDENTIFIED = "identified"  # a recording was found and its MusicBrainz data fetched
    NO_MATCH = "no_match"  # the services answered, and nothing matches
    PENDING = "pending"  # a service could not be asked (offline, no key); try again later


@dataclass(frozen=True)
class ArtistCredit:
    mbid: str
    name: str


@dataclass(frozen=True)
class WorkInfo:
    mbid: str
    title: str


@dataclass(frozen=True)
class RecordingInfo:
    mbid: str
    title: str
    length_s: float | None
    artists: tuple[ArtistCredit, ...]
    works: tuple[WorkInfo, ...] = ()

    @property
    def artist_display(self) -> str:
        return ", ".join(a.name for a in self.artists)


@dataclass(frozen=True)
class ReleaseInfo:
    """The release (album) a passage is linked to; only chosen releases become ``albums`` rows."""

    mbid: str
    title: str
    date: str | None
    track_count: int | None = None
    release_group_mbid: str | None = None


@dataclass(frozen=True)
class PassageIdentification:
    passage_id: str
    file_id: str
    rel_path: str
    status: PassageStatus
    start_ticks: int  # relative to the passage start, for passage_songs
    end_ticks: int
    recording: RecordingInfo | None = None
    release_mbid: str | None = None
    method: str | None = None  # how: tags, acoustid, release-tags/-title/-order, tag_search, name_search
    score: float | None = None
    flavor: Mapping[str, Mapping[str, float]] | None = None  # AcousticBrainz vector, when there is one
    flavor_source: str | None = None  # 'acousticbrainz' | 'essentia' (local kept) | None
    flavor_pending: bool = False  # AcousticBrainz could not be asked; refresh later
    fill_title: str | None = None  # passage title/artist/album to set where the tags had none
    fill_artist: str | None = None
    fill_album: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ArtImage:
    """An album image at ``rel_path``. ``data`` holds the JPEG to write there when identification
    fetched it (the import writes it before the rows); None when the file is already there."""

    album_mbid: str
    image_type: str  # album_front | album_back
    rel_path: str
    width: int
    height: int
    priority: int = 100
    data: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CandidateRelease:
    """A release a MusicBrainz search offered for a file, kept for the user to choose from."""

    release_mbid: str
    title: str
    artist: str | None
    date: str | None
    track_count: int | None
    score: float  # confidence, 0..1
    checked: bool  # compared track by track (fetched), or judged from the search answer alone
    chosen: bool = False
    recording_mbid: str | None = None  # a single's recording on that release
    country: str | None = None
    kind: str | None = None  # "Album", "Album + Compilation" …


@dataclass(frozen=True)
class FileCandidates:
    file_id: str
    method: str  # tag_search | name_search
    releases: tuple[CandidateRelease, ...]


@dataclass(frozen=True)
class IdentifyWarning:
    code: ErrorCode
    message: str
    path: str | None = None  # file (or folder) relative to the root; None for session-wide warnings


@dataclass
class CacheWrites:
    """Service answers fetched during identification, persisted by ``write_identification``.

    Each map is keyed like its table: AcoustID lookup key, MBID, recording MBID, release MBID;
    ``misses`` holds negative answers as (service, key) → detail.
    """

    acoustid: dict[str, str] = field(default_factory=dict)  # lookup key → compact results JSON
    musicbrainz: dict[str, tuple[str, str]] = field(default_factory=dict)  # mbid → (entity_type, JSON)
    acousticbrainz: dict[str, str] = field(default_factory=dict)  # recording mbid → high-level JSON
    coverart: dict[str, str] = field(default_factory=dict)  # release mbid → listing JSON
    misses: dict[tuple[str, str], str] = field(default_factory=dict)
    search: dict[str, str] = field(default_factory=dict)  # "<entity>:<limit>:<query>" → results JSON

    def __bool__(self) -> bool:
        return any((self.acoustid, self.musicbrainz, self.acousticbrainz, self.coverart, self.misses, self.search))

    def merge(self, other: CacheWrites) -> None:
        self.acoustid.update(other.acoustid)
        self.musicbrainz.update(other.musicbrainz)
        self.acousticbrainz.update(other.acousticbrainz)
        self.coverart.update(other.coverart)
        self.misses.update(other.misses)
        self.search.update(other.search)


@dataclass(frozen=True)
class AlbumIdentification:
    group_key: str
    files: tuple[FileToIdentify, ...]
    passages: tuple[PassageIdentification, ...]
    releases: tuple[ReleaseInfo, ...] = ()
    art: tuple[ArtImage, ...] = ()
    warnings: tuple[IdentifyWarning, ...] = ()
    cache: CacheWrites = field(default_factory=CacheWrites)
    candidates: tuple[FileCandidates, ...] = ()  # what a search offered, per file (stored for the user)

    def counts(self) -> dict[str, int]:
        out = {status.value: 0 for status in PassageStatus}
        for p in self.passages:
            out[p.status.value] += 1
        return out

    def summary(self) -> dict[str, Any]:
        return {"group": self.group_key, "passages": self.counts(), "releases": [r.mbid for r in self.releases]}
