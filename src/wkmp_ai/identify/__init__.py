"""Identification through AcoustID, MusicBrainz, AcousticBrainz and the Cover Art Archive.

The import hands over one :class:`AlbumGroup` (files of a folder and album tag, with their
passages and fingerprints) at a time to a session-wide :class:`Identifier`, and writes each
:class:`AlbumIdentification` with :func:`wkmp_ai.db.identify.write_identification`. See
docs/identify.md for the request budget, release choice, cache keys and fault handling.
"""

from wkmp_ai.identify.http import RetryPolicy
from wkmp_ai.identify.identifier import Identifier, IdentifyOptions, make_limiters
from wkmp_ai.identify.pending import PendingReport, identify_and_write, identify_pending, refresh_flavors
from wkmp_ai.identify.records import (
    AlbumGroup,
    AlbumIdentification,
    ArtImage,
    ArtistCredit,
    CacheWrites,
    CandidateRelease,
    FileCandidates,
    FileTags,
    FileToIdentify,
    IdentifyWarning,
    PassageIdentification,
    PassageStatus,
    PassageToIdentify,
    RecordingInfo,
    ReleaseInfo,
    WorkInfo,
    group_files,
    group_key,
)

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
    "Identifier",
    "IdentifyOptions",
    "IdentifyWarning",
    "PassageIdentification",
    "PassageStatus",
    "PassageToIdentify",
    "PendingReport",
    "RecordingInfo",
    "ReleaseInfo",
    "RetryPolicy",
    "WorkInfo",
    "group_files",
    "group_key",
    "identify_and_write",
    "identify_pending",
    "make_limiters",
    "refresh_flavors",
]
