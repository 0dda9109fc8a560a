"""MusicBrainz web service v2 (https://musicbrainz.org/doc/MusicBrainz_API), JSON.

A whole album costs one request: ``GET /ws/2/release/{mbid}?inc=recordings+artist-credits+
work-rels+recording-level-rels+work-level-rels+release-groups+tags&fmt=json`` returns every
track with its recording (``media[].tracks[].recording``), the recordings' artist credits and
their performance relations to works. Releases too large to list every track are completed with
a recordings browse by release (``/ws/2/recording?release=…&limit=100&offset=…``). A search
(``/ws/2/release?query=…``, see :mod:`wkmp_ai.identify.mbsearch`) costs one request. A single
recording costs one request (``/ws/2/recording/{mbid}?inc=artist-credits+releases+media+
work-rels+tags``), which also lists the releases it is on, with the medium and track offset.

Documents are trimmed to the fields we use — still in MusicBrainz's own field names — before
they are cached in ``musicbrainz_cache``; the parsers read trimmed and untrimmed alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from wkmp_ai.identify.evidence import ReleaseDoc, ReleaseEvidence, TrackDoc
from wkmp_ai.identify.http import ServiceClient, Transient, json_body
from wkmp_ai.records.identify import ArtistCredit, RecordingInfo, WorkInfo

__all__ = [
    "BROWSE_PAGE",
    "DISCID_INC",
    "RECORDING_INC",
    "RELEASE_INC",
    "MusicBrainzClient",
    "is_mbid",
    "parse_recording",
    "parse_release",
    "recording_evidence",
    "recordings_of_release",
    "trim_recording",
    "trim_release",
]

RELEASE_INC = "recordings+artist-credits+work-rels+recording-level-rels+work-level-rels+release-groups+tags"
RECORDING_INC = "artist-credits+releases+media+work-rels+tags"
DISCID_INC = "recordings+artist-credits+release-groups"
BROWSE_INC = "artist-credits+work-rels"
BROWSE_PAGE = 100  # the largest page MusicBrainz serves
MAX_TAGS = 10

_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_mbid(value: str | None) -> bool:
    return bool(value) and bool(_MBID.match(str(value).strip().lower()))


# --- trimming (what goes into the cache) ------------------------------------------------------


def _trim_credit(credit: Any) -> list[dict[str, Any]]:
    out = []
    for c in credit or ():
        if not isinstance(c, dict):
            continue
        artist: dict[str, Any] = c["artist"] if isinstance(c.get("artist"), dict) else {}
        out.append(
            {
                "name": c.get("name"),
                "joinphrase": c.get("joinphrase", ""),
                "artist": {k: artist.get(k) for k in ("id", "name", "sort-name") if k in artist},
            }
        )
    return out


def _trim_tags(tags: Any) -> list[dict[str, Any]]:
    good = [t for t in tags or () if isinstance(t, dict) and t.get("name")]
    good.sort(key=lambda t: -(t.get("count") or 0))
    return [{"name": t["name"], "count": t.get("count", 0)} for t in good[:MAX_TAGS]]


def _trim_relations(relations: Any) -> list[dict[str, Any]]:
    out = []
    for rel in relations or ():
        if isinstance(rel, dict) and rel.get("target-type") == "work" and isinstance(rel.get("work"), dict):
            work = rel["work"]
            out.append(
                {
                    "type": rel.get("type"),
                    "target-type": "work",
                    "work": {k: work.get(k) for k in ("id", "title", "type", "iswcs") if k in work},
                }
            )
    return out


def trim_recording(rec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: rec.get(k) for k in ("id", "title", "length", "disambiguation") if k in rec}
    if "artist-credit" in rec:
        out["artist-credit"] = _trim_credit(rec["artist-credit"])
    if "relations" in rec:
        out["relations"] = _trim_relations(rec["relations"])
    if "tags" in rec:
        out["tags"] = _trim_tags(rec["tags"])
    if "releases" in rec:
        out["releases"] = [_trim_release_summary(r) for r in rec["releases"] or () if isinstance(r, dict)]
    return out


def _trim_release_summary(rel: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: rel.get(k) for k in ("id", "title", "date", "status", "country") if k in rel}
    if isinstance(rel.get("release-group"), dict):
        out["release-group"] = {k: rel["release-group"].get(k) for k in ("id", "title", "primary-type")}
    media = []
    for m in rel.get("media") or ():
        if isinstance(m, dict):
            media.append({k: m.get(k) for k in ("position", "format", "track-count", "track-offset") if k in m})
            media[-1]["tracks"] = [
                {k: t.get(k) for k in ("id", "number", "position", "title", "length") if k in t}
                for t in m.get("tracks") or ()
                if isinstance(t, dict)
            ]
    if media:
        out["media"] = media
    return out


def trim_release(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: doc.get(k) for k in ("id", "title", "date", "status", "country", "cover-art-archive") if k in doc
    }
    if "artist-credit" in doc:
        out["artist-credit"] = _trim_credit(doc["artist-credit"])
    if isinstance(doc.get("release-group"), dict):
        rg = doc["release-group"]
        keep = ("id", "title", "primary-type", "secondary-types", "first-release-date")
        out["release-group"] = {k: rg.get(k) for k in keep}
    if "tags" in doc:
        out["tags"] = _trim_tags(doc["tags"])
    media = []
    for m in doc.get("media") or ():
        if not isinstance(m, dict):
            continue
        medium: dict[str, Any] = {
            k: m.get(k) for k in ("position", "format", "title", "track-count", "track-offset") if k in m
        }
        medium["tracks"] = []
        for t in m.get("tracks") or ():
            if not isinstance(t, dict):
                continue
            track: dict[str, Any] = {k: t.get(k) for k in ("id", "number", "position", "title", "length") if k in t}
            if isinstance(t.get("recording"), dict):
                track["recording"] = trim_recording(t["recording"])
            medium["tracks"].append(track)
        media.append(medium)
    out["media"] = media
    return out


# --- parsing (trimmed or not) -----------------------------------------------------------------


def _credits(credit: Any) -> tuple[ArtistCredit, ...]:
    seen: dict[str, ArtistCredit] = {}
    for c in credit or ():
        artist = c.get("artist") if isinstance(c, dict) else None
        if isinstance(artist, dict) and is_mbid(artist.get("id")) and artist["id"] not in seen:
            seen[artist["id"]] = ArtistCredit(mbid=artist["id"], name=str(artist.get("name") or c.get("name") or ""))
    return tuple(seen.values())


def _credit_string(credit: Any) -> str | None:
    parts = [f"{c.get('name') or ''}{c.get('joinphrase') or ''}" for c in credit or () if isinstance(c, dict)]
    return "".join(parts) or None


def _length_s(value: Any) -> float | None:
    return value / 1000.0 if isinstance(value, int | float) and value > 0 else None


def parse_recording(rec: dict[str, Any]) -> RecordingInfo:
    works: dict[str, WorkInfo] = {}
    for rel in rec.get("relations") or ():
        work = rel.get("work") if isinstance(rel, dict) else None
        if rel.get("type") == "performance" and isinstance(work, dict) and is_mbid(work.get("id")):
            works.setdefault(work["id"], WorkInfo(mbid=work["id"], title=str(work.get("title") or "")))
    return RecordingInfo(
        mbid=str(rec["id"]),
        title=str(rec.get("title") or ""),
        length_s=_length_s(rec.get("length")),
        artists=_credits(rec.get("artist-credit")),
        works=tuple(works.values()),
    )


def parse_release(doc: dict[str, Any], browsed: Sequence[dict[str, Any]] = ()) -> ReleaseDoc:
    """The release with its tracks.

    ``browsed`` are recording documents from a browse by release: they complete a lookup that
    listed fewer tracks than its media announce. Their tracks' positions are unknown (0).
    """
    extra = {r["id"]: parse_recording(r) for r in browsed if isinstance(r, dict) and is_mbid(r.get("id"))}
    tracks = []
    track_count = 0
    media = [m for m in doc.get("media") or () if isinstance(m, dict)]
    for m in media:
        listed = [t for t in m.get("tracks") or () if isinstance(t, dict)]
        track_count += int(m.get("track-count") or len(listed))
        for t in listed:
            rec = t.get("recording")
            if not isinstance(rec, dict) or not is_mbid(rec.get("id")):
                continue
            info = parse_recording(rec)
            info = extra.pop(info.mbid, info) if not info.works else info
            extra.pop(info.mbid, None)
            tracks.append(
                TrackDoc(
                    medium_position=int(m.get("position") or 1),
                    position=int(t.get("position") or 0),
                    number=t.get("number"),
                    title=t.get("title") or info.title,
                    length_s=_length_s(t.get("length")) or info.length_s,
                    recording=info,
                )
            )
    for info in extra.values():
        tracks.append(TrackDoc(0, 0, None, info.title, info.length_s, info))
    caa: dict[str, Any] = doc["cover-art-archive"] if isinstance(doc.get("cover-art-archive"), dict) else {}
    rg: dict[str, Any] = doc["release-group"] if isinstance(doc.get("release-group"), dict) else {}
    return ReleaseDoc(
        mbid=str(doc["id"]),
        title=str(doc.get("title") or ""),
        date=doc.get("date") or None,
        status=doc.get("status"),
        release_group_mbid=rg.get("id"),
        artist_credit=_credit_string(doc.get("artist-credit")),
        track_count=track_count,
        medium_count=len(media),
        tracks=tuple(tracks),
        cover_art_artwork=caa.get("artwork"),
        cover_art_front=caa.get("front"),
        cover_art_back=caa.get("back"),
        primary_type=rg.get("primary-type"),
        secondary_types=tuple(str(t) for t in rg.get("secondary-types") or () if t),
        first_release_date=rg.get("first-release-date") or None,
    )


def recording_evidence(rec: dict[str, Any]) -> list[ReleaseEvidence]:
    """Release votes from a recording lookup with ``inc=releases+media``."""
    out = []
    rid = str(rec["id"])
    for rel in rec.get("releases") or ():
        if not isinstance(rel, dict) or not is_mbid(rel.get("id")):
            continue
        media = [m for m in rel.get("media") or () if isinstance(m, dict)] or [{}]
        rg: dict[str, Any] = rel["release-group"] if isinstance(rel.get("release-group"), dict) else {}
        for m in media:
            position = None
            if m.get("tracks"):
                position = m["tracks"][0].get("position")
            elif isinstance(m.get("track-offset"), int):
                position = m["track-offset"] + 1
            out.append(
                ReleaseEvidence(
                    release_mbid=rel["id"],
                    recording_mbid=rid,
                    release_group_mbid=rg.get("id"),
                    title=rel.get("title"),
                    date=rel.get("date") or None,
                    country=rel.get("country"),
                    track_count=None,  # a recording lookup shows only the medium holding the recording
                    medium_count=None,
                    medium_position=m.get("position"),
                    track_position=position,
                )
            )
    return out


def recordings_of_release(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Trimmed per-recording documents found inside a release document (cached on their own)."""
    out = []
    for m in doc.get("media") or ():
        for t in m.get("tracks") or ():
            rec = t.get("recording") if isinstance(t, dict) else None
            if isinstance(rec, dict) and is_mbid(rec.get("id")):
                rec = trim_recording(rec)
                rec["releases"] = [
                    {
                        "id": doc.get("id"),
                        "title": doc.get("title"),
                        "date": doc.get("date"),
                        "status": doc.get("status"),
                        "media": [
                            {
                                "position": m.get("position"),
                                "track-count": m.get("track-count"),
                                "tracks": [{"position": t.get("position"), "number": t.get("number")}],
                            }
                        ],
                    }
                ]
                out.append(rec)
    return out


def _search_page(response: Any) -> dict[str, Any]:
    doc = json_body(response)
    if not isinstance(doc, dict) or "error" in doc or not any(k in doc for k in ("releases", "recordings")):
        raise Transient("answer is not a search result")
    return doc


def _object(response: Any) -> dict[str, Any]:
    doc = json_body(response)
    if not isinstance(doc, dict) or "error" in doc:
        raise Transient("answer is not an entity document")
    return doc


class MusicBrainzClient:
    def __init__(self, http: ServiceClient):
        self.http = http

    async def release(self, mbid: str) -> dict[str, Any]:
        doc = await self.http.get_json(f"/ws/2/release/{mbid}", {"inc": RELEASE_INC, "fmt": "json"}, parse=_object)
        if not doc.get("id"):
            raise Transient("release document without id")
        return doc

    async def recording(self, mbid: str) -> dict[str, Any]:
        doc = await self.http.get_json(f"/ws/2/recording/{mbid}", {"inc": RECORDING_INC, "fmt": "json"}, parse=_object)
        if not doc.get("id"):
            raise Transient("recording document without id")
        return doc

    async def discid(self, disc_id: str, toc: str) -> dict[str, Any]:
        """The releases a CD's Disc ID is on; with ``toc``, MusicBrainz also offers releases whose
        track lengths match when it does not know the Disc ID (a fuzzy lookup, docs/cue.md)."""
        params = {"inc": DISCID_INC, "toc": toc, "fmt": "json"}
        return await self.http.get_json(f"/ws/2/discid/{disc_id}", params, parse=_object)

    async def search(self, entity: str, query: str, limit: int) -> dict[str, Any]:
        """One page of a search (``entity``: release or recording), best results first."""
        params = {"query": query, "limit": str(limit), "fmt": "json"}
        return await self.http.get_json(f"/ws/2/{entity}", params, parse=_search_page)

    async def browse_release_recordings(self, release_mbid: str) -> list[dict[str, Any]]:
        """Every recording of a release, 100 a page."""
        recordings: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self.http.get_json(
                "/ws/2/recording",
                {
                    "release": release_mbid,
                    "inc": BROWSE_INC,
                    "limit": str(BROWSE_PAGE),
                    "offset": str(offset),
                    "fmt": "json",
                },
                parse=_object,
            )
            batch = [r for r in page.get("recordings") or () if isinstance(r, dict)]
            recordings += batch
            total = page.get("recording-count")
            offset += len(batch)
            if not batch or not isinstance(total, int) or offset >= total:
                return recordings
