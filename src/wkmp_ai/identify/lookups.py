"""What an album run may ask of the session: the options and the :class:`Lookups` protocol.

:class:`~wkmp_ai.identify.album.AlbumRun` (and its :class:`~wkmp_ai.identify.tagsearch.TagSearch`)
see the session's :class:`~wkmp_ai.identify.identifier.Identifier` only through this protocol, so
``album`` does not import ``identifier`` and a test can run an album against any lookups it likes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wkmp_ai.errors import ErrorCode
from wkmp_ai.identify.acoustid import LookupItem
from wkmp_ai.identify.cache import CacheTTL
from wkmp_ai.identify.coverart import CaaImage
from wkmp_ai.identify.evidence import AcoustIDCandidate, ReleaseDoc
from wkmp_ai.identify.http import RetryPolicy, ServiceError
from wkmp_ai.records.identify import CacheWrites, IdentifyWarning

__all__ = ["IdentifyOptions", "Lookups"]


@dataclass(frozen=True)
class IdentifyOptions:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 30.0
    breaker_threshold: int = 3  # failed operations in a row before a service is given up
    # How long a batch waits for more lookups to join it. Not at all by default: an album's lookups
    # are queued together, and lookups queue anyway while the rate limit holds a request back; a
    # wait only delayed every album (the last one's ~0.1 s ended the import later).
    batch_linger_s: float = 0.0
    acoustid_batch_size: int = 20
    min_score: float = 0.5
    ttl: CacheTTL = field(default_factory=CacheTTL)
    acousticbrainz: bool = True
    tag_search: bool = True  # search MusicBrainz by tags and names for what the fingerprints leave
    cover_art: bool = True
    back_cover: bool = True
    art_max_px: int = 1024


class Lookups(Protocol):
    """The cached, rate-limited, shared lookups of one import session."""

    @property
    def options(self) -> IdentifyOptions: ...

    @property
    def root_folder(self) -> Path: ...

    @property
    def has_acoustid_key(self) -> bool: ...

    def available(self, service: str) -> bool:
        """False once the service has been given up for this session."""
        ...

    def announce(self, code: ErrorCode, message: str, *, once: str) -> IdentifyWarning | None: ...

    def failure_warning(
        self, service: str, exc: ServiceError, path: str | None, *, files: int = 1
    ) -> IdentifyWarning | None: ...

    def drain_cache(self) -> CacheWrites: ...

    async def cached_releases(self, mbids: Collection[str]) -> set[str]:
        """Which releases can be had without a request."""
        ...

    async def acoustid_lookup(
        self, items: Sequence[LookupItem]
    ) -> dict[LookupItem, tuple[AcoustIDCandidate, ...] | BaseException]: ...

    async def release(self, mbid: str) -> ReleaseDoc | None: ...

    async def recording(self, mbid: str) -> dict[str, Any] | None: ...

    async def search(self, entity: str, query: str, limit: int) -> list[dict[str, Any]]: ...

    async def disc_releases(self, disc_id: str, toc: str) -> list[dict[str, Any]]: ...

    async def high_level(self, mbids: Sequence[str]) -> dict[str, dict[str, Any] | BaseException | None]: ...

    async def cover_listing(self, release_mbid: str) -> list[CaaImage]: ...

    async def cover_image(self, image: CaaImage) -> bytes: ...
