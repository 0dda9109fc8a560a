"""AcousticBrainz high-level data, the preferred source of musical flavor (docs/identify.md).

``GET /api/v1/high-level?recording_ids=a;b;c`` answers up to 25 recordings at once as
``{"<mbid>": {"0": <document>}}`` and silently leaves out recordings it has no data for;
``GET /api/v1/<mbid>/high-level`` answers one, 404 when there is none. The bulk form is used
while the server offers it (a mirror may not: a 404/400/405 on the bulk path switches to single
lookups for the rest of the session).

The flavor vector keeps, for every ``highlevel`` classifier, its ``all`` map (class →
probability), dropping ``probability``/``value``/``version``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from wkmp_ai.identify.batch import Batcher
from wkmp_ai.identify.http import NotFound, Rejected, ServiceClient, Transient, json_body

__all__ = ["MAX_BULK", "AcousticBrainzClient", "flavor_vector"]

log = logging.getLogger(__name__)

MAX_BULK = 25  # the server's MAX_ITEMS_PER_BULK_REQUEST
_SUM_TOLERANCE = 1e-3


def flavor_vector(doc: Mapping[str, Any] | None) -> dict[str, dict[str, float]] | None:
    """``{"danceability": {"danceable": 0.7, "not_danceable": 0.3}, …}`` or None if nothing usable."""
    highlevel = doc.get("highlevel") if isinstance(doc, Mapping) else None
    if not isinstance(highlevel, Mapping):
        return None
    vector: dict[str, dict[str, float]] = {}
    for name, classifier in sorted(highlevel.items()):
        classes = classifier.get("all") if isinstance(classifier, Mapping) else None
        if not isinstance(classes, Mapping) or len(classes) < 2:
            continue
        values = {}
        for cls, value in classes.items():
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                values[str(cls)] = float(value)
        if len(values) != len(classes):
            continue
        total = sum(values.values())
        if abs(total - 1.0) > _SUM_TOLERANCE:
            log.warning("AcousticBrainz classifier %s sums to %.4f, not 1; kept as given", name, total)
        vector[str(name)] = values
    return vector or None


def _object(response: Any) -> dict[str, Any]:
    doc = json_body(response)
    if not isinstance(doc, dict):
        raise Transient("answer is not a JSON object")
    return doc


class AcousticBrainzClient:
    def __init__(self, http: ServiceClient, *, linger_s: float = 0.02, bulk: bool = True):
        self.http = http
        self.bulk_supported = bulk
        self._batcher: Batcher[str, dict[str, Any] | None] = Batcher(
            self._fetch_batch, size=MAX_BULK, limiter=http.limiter, linger_s=linger_s
        )

    async def aclose(self) -> None:
        await self._batcher.aclose()

    async def high_level_many(self, mbids: Sequence[str]) -> dict[str, dict[str, Any] | BaseException | None]:
        """Each recording's high-level document, None when AcousticBrainz has none, or the error."""
        return await self._batcher.get_many(mbids)

    async def _fetch_batch(self, mbids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        if self.bulk_supported and len(mbids) > 1:
            try:
                return await self._bulk(mbids)
            except (NotFound, Rejected) as exc:
                if exc.status not in (400, 404, 405):
                    raise
                log.info("AcousticBrainz bulk lookups not offered here (%s); asking one at a time", exc.detail)
                self.bulk_supported = False
        return {mbid: await self._single(mbid) for mbid in mbids}

    async def _bulk(self, mbids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        doc = await self.http.get_json("/api/v1/high-level", {"recording_ids": ";".join(mbids)}, parse=_object)
        out: dict[str, dict[str, Any] | None] = {}
        for mbid in mbids:
            entry = doc.get(mbid.lower())
            if isinstance(entry, Mapping):
                first = entry.get("0") if isinstance(entry.get("0"), Mapping) else next(iter(entry.values()), None)
                out[mbid] = dict(first) if isinstance(first, Mapping) else None
            else:
                out[mbid] = None  # absent: no data for this recording
        return out

    async def _single(self, mbid: str) -> dict[str, Any] | None:
        try:
            return await self.http.get_json(f"/api/v1/{mbid}/high-level", parse=_object)
        except NotFound:
            return None
