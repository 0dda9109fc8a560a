"""Identification through AcoustID, MusicBrainz, AcousticBrainz and the Cover Art Archive.

The import hands over one :class:`~wkmp_ai.records.identify.AlbumGroup` (files of a folder and
album tag, with their passages and fingerprints) at a time to a session-wide :class:`Identifier`,
and writes each :class:`~wkmp_ai.records.identify.AlbumIdentification` it gets back. See
docs/identify.md for the request budget, release choice, cache keys and fault handling.
"""

from wkmp_ai.identify.http import RetryPolicy
from wkmp_ai.identify.identifier import Identifier, IdentifyOptions, make_limiters
from wkmp_ai.identify.pending import PendingReport, identify_and_write, identify_pending, refresh_flavors

__all__ = [
    "Identifier",
    "IdentifyOptions",
    "PendingReport",
    "RetryPolicy",
    "identify_and_write",
    "identify_pending",
    "make_limiters",
    "refresh_flavors",
]
