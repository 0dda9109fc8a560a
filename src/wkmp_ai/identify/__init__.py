"""Identification through AcoustID, MusicBrainz, AcousticBrainz and the Cover Art Archive.

The import hands over one :class:`~wkmp_ai.records.identify.AlbumGroup` (files of a folder and
album tag, with their passages and fingerprints) at a time to a session-wide :class:`Identifier`,
and writes each :class:`~wkmp_ai.records.identify.AlbumIdentification` it gets back
(:mod:`wkmp_ai.ingest.identify`). This package writes nothing: it reads the stored caches through
the :class:`~wkmp_ai.identify.cache.CacheReader` it is given. See docs/identify.md for the request
budget, release choice, cache keys and fault handling.
"""

from wkmp_ai.identify.http import RetryPolicy
from wkmp_ai.identify.identifier import Identifier, make_limiters
from wkmp_ai.identify.lookups import IdentifyOptions

__all__ = ["Identifier", "IdentifyOptions", "RetryPolicy", "make_limiters"]
