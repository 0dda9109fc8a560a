"""AcoustID v2 lookups, batched (https://acoustid.org/webservice).

One request carries up to 20 fingerprints: ``POST /v2/lookup`` with a gzip-compressed form body
``client=<key>&format=json&batch=1&meta=recordings releasegroups releases tracks compress``
``&duration.0=…&fingerprint.0=…&duration.1=…``. The answer lists one entry per fingerprint,
``{"status":"ok","fingerprints":[{"index":0,"results":[{"id","score","recordings":[…]}]}]}``,
each recording carrying its release groups, their releases, and the medium and track position
of the recording on each release (``compress`` drops titles and artists that repeat the parent).

Only results with ``score ≥ min_score`` (0.5) are kept. They are cached under a lookup key, the
SHA-256 of ``"<duration>:<fingerprint>"`` (a full fingerprint is kilobytes; the key is 64
characters); an empty list caches a no-match. The API key is sent in the body only and is
redacted from every error message.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from wkmp_ai.identify.batch import Batcher
from wkmp_ai.identify.evidence import AcoustIDCandidate, ReleaseEvidence
from wkmp_ai.identify.http import Rejected, ServiceClient, Transient, json_body
from wkmp_ai.records.identify import ArtistCredit

__all__ = [
    "LOOKUP_META",
    "MAX_BATCH",
    "AcoustIDClient",
    "candidates_from_json",
    "candidates_to_json",
    "lookup_key",
    "parse_results",
]

LOOKUP_META = "recordings releasegroups releases tracks compress"
MAX_BATCH = 20  # the server's MAX_FINGERPRINT_QUERIES_PER_REQUEST
MAX_RELEASES_PER_RECORDING = 100  # popular songs sit on hundreds of compilations; keep the cache small

# AcoustID error codes (acoustid-server api/errors.py) and what to do about them.
_INVALID_API_KEY = 4
_TRANSIENT_CODES = {5: "internal error", 13: "service unavailable", 14: "rate limit exceeded"}

LookupItem = tuple[str, int]  # (fingerprint, duration in whole seconds)


def lookup_key(fingerprint: str, duration_s: int) -> str:
    return hashlib.sha256(f"{int(duration_s)}:{fingerprint}".encode()).hexdigest()


def request_duration(duration_s: float) -> int:
    """The whole-second duration AcoustID wants (at least 1)."""
    return max(1, round(duration_s))


def _date(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("year"):
        parts = [f"{int(value['year']):04d}"]
        for name in ("month", "day"):
            if not value.get(name):
                break
            parts.append(f"{int(value[name]):02d}")
        return "-".join(parts)
    return None


def _artists(items: Any) -> tuple[ArtistCredit, ...]:
    out = []
    for a in items or ():
        if isinstance(a, dict) and a.get("id"):
            out.append(ArtistCredit(mbid=str(a["id"]), name=str(a.get("name") or "")))
    return tuple(out)


def _releases(recording: dict[str, Any], recording_id: str, score: float) -> list[ReleaseEvidence]:
    found: list[ReleaseEvidence] = []
    groups = recording.get("releasegroups")
    if groups is None:  # meta without releasegroups nests releases under the recording
        groups = [{"releases": recording.get("releases") or []}]
    for rg in groups or ():
        if not isinstance(rg, dict):
            continue
        for rel in rg.get("releases") or ():
            if not isinstance(rel, dict) or not rel.get("id"):
                continue
            mediums = [m for m in rel.get("mediums") or () if isinstance(m, dict)] or [{}]
            for medium in mediums:
                tracks = [t for t in medium.get("tracks") or () if isinstance(t, dict)] or [{}]
                for track in tracks:
                    found.append(
                        ReleaseEvidence(
                            release_mbid=str(rel["id"]),
                            recording_mbid=recording_id,
                            score=score,
                            release_group_mbid=rg.get("id"),
                            title=rel.get("title") or rg.get("title"),  # compress drops a title equal to the RG's
                            date=_date(rel.get("date")),
                            country=rel.get("country"),
                            track_count=rel.get("track_count"),
                            medium_count=rel.get("medium_count"),
                            medium_position=medium.get("position"),
                            track_position=track.get("position"),
                        )
                    )
    return found[:MAX_RELEASES_PER_RECORDING]


def parse_results(results: Any, *, min_score: float) -> tuple[AcoustIDCandidate, ...]:
    """Candidates (best score first) from one fingerprint's ``results`` list."""
    best: dict[str, AcoustIDCandidate] = {}
    for result in results or ():
        if not isinstance(result, dict):
            continue
        try:
            score = float(result.get("score", 0.0))
        except (TypeError, ValueError):
            continue
        if score < min_score:
            continue
        for rec in result.get("recordings") or ():
            if not isinstance(rec, dict) or not rec.get("id"):
                continue
            rid = str(rec["id"])
            if rid in best and best[rid].score >= score:
                continue
            duration = rec.get("duration")
            best[rid] = AcoustIDCandidate(
                recording_mbid=rid,
                score=score,
                title=rec.get("title"),
                duration_s=float(duration) if isinstance(duration, int | float) else None,
                artists=_artists(rec.get("artists")),
                releases=tuple(_releases(rec, rid, score)),
            )
    return tuple(sorted(best.values(), key=lambda c: -c.score))


def candidates_to_json(candidates: Sequence[AcoustIDCandidate]) -> str:
    doc = [
        {
            "id": c.recording_mbid,
            "score": c.score,
            "title": c.title,
            "duration": c.duration_s,
            "artists": [[a.mbid, a.name] for a in c.artists],
            "releases": [
                [
                    r.release_mbid,
                    r.release_group_mbid,
                    r.title,
                    r.date,
                    r.country,
                    r.track_count,
                    r.medium_count,
                    r.medium_position,
                    r.track_position,
                ]
                for r in c.releases
            ],
        }
        for c in candidates
    ]
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def candidates_from_json(text: str) -> tuple[AcoustIDCandidate, ...]:
    out = []
    for c in json.loads(text):
        rid = c["id"]
        out.append(
            AcoustIDCandidate(
                recording_mbid=rid,
                score=c["score"],
                title=c.get("title"),
                duration_s=c.get("duration"),
                artists=tuple(ArtistCredit(mbid=a[0], name=a[1]) for a in c.get("artists", ())),
                releases=tuple(
                    ReleaseEvidence(
                        release_mbid=r[0],
                        recording_mbid=rid,
                        score=c["score"],
                        release_group_mbid=r[1],
                        title=r[2],
                        date=r[3],
                        country=r[4],
                        track_count=r[5],
                        medium_count=r[6],
                        medium_position=r[7],
                        track_position=r[8],
                    )
                    for r in c.get("releases", ())
                ),
            )
        )
    return tuple(out)


def _error_of(doc: Any) -> tuple[int | None, str]:
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        code = err.get("code")
        return (code if isinstance(code, int) else None), str(err.get("message") or "error")
    return None, "error"


def _check_error_document(doc: Any) -> None:
    code, message = _error_of(doc)
    if code == _INVALID_API_KEY:
        raise Rejected("acoustid", "invalid API key", fatal=True)
    if code in _TRANSIENT_CODES:
        kind = "rate_limit" if code == 14 else "http"
        raise Transient(f"AcoustID error {code}: {_TRANSIENT_CODES[code]}", kind=kind)
    raise Rejected("acoustid", f"AcoustID error {code}: {message[:4000]}")  # redacted, then cut, in http.py


def _inspect_error(response: httpx.Response) -> None:
    """AcoustID puts its reason in a JSON error document, also on 4xx/5xx answers."""
    try:
        doc = json.loads(response.content)
    except ValueError:
        return  # not a document of AcoustID's: generic handling by status
    if isinstance(doc, dict) and doc.get("status") == "error":
        _check_error_document(doc)


def _parse_batch(response: httpx.Response) -> dict[int, Any]:
    doc = json_body(response)
    if not isinstance(doc, dict):
        raise Transient("answer is not a JSON object")
    if doc.get("status") != "ok":
        _check_error_document(doc)
    entries = doc.get("fingerprints")
    if not isinstance(entries, list):
        raise Transient("answer has no 'fingerprints' list")
    out: dict[int, Any] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("index"), int | str):
            try:
                out[int(entry["index"])] = entry.get("results") or []
            except ValueError:
                continue
    return out


class AcoustIDClient:
    """Looks fingerprints up in batches shared by every album being identified."""

    def __init__(
        self,
        http: ServiceClient,
        api_key: str,
        *,
        batch_size: int = MAX_BATCH,
        linger_s: float = 0.02,
        min_score: float = 0.5,
    ):
        self.http = http
        self._api_key = api_key
        self.min_score = min_score
        self._batcher: Batcher[LookupItem, tuple[AcoustIDCandidate, ...]] = Batcher(
            self._fetch_batch, size=min(batch_size, MAX_BATCH), limiter=http.limiter, linger_s=linger_s
        )

    async def aclose(self) -> None:
        await self._batcher.aclose()

    async def lookup_many(
        self, items: Sequence[LookupItem]
    ) -> dict[LookupItem, tuple[AcoustIDCandidate, ...] | BaseException]:
        return await self._batcher.get_many(items)

    async def _fetch_batch(self, items: Sequence[LookupItem]) -> dict[LookupItem, tuple[AcoustIDCandidate, ...]]:
        form: list[tuple[str, str]] = [
            ("client", self._api_key),
            ("format", "json"),
            ("batch", "1"),
            ("meta", LOOKUP_META),
        ]
        for i, (fingerprint, duration) in enumerate(items):
            form += [(f"duration.{i}", str(duration)), (f"fingerprint.{i}", fingerprint)]
        body = gzip.compress(urlencode(form).encode("ascii"))
        by_index = await self.http.post(
            "/v2/lookup",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"},
            parse=_parse_batch,
            inspect_error=_inspect_error,
        )
        # A fingerprint the server could not parse has no entry: it gets no candidates.
        return {item: parse_results(by_index.get(i, []), min_score=self.min_score) for i, item in enumerate(items)}
