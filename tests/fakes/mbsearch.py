"""MusicBrainz search for the fake: ``/ws/2/release?query=…`` and ``/ws/2/recording?query=…``.

Each entity of the world is indexed under the field names of MusicBrainz's search
(https://musicbrainz.org/doc/MusicBrainz_API/Search): releases by ``release``, ``artist``,
``artistname``, ``arid``, ``reid``, ``rgid``, ``tracks``, ``tracksmedium``, ``mediums``, ``date``,
``country``, ``status``, ``format``, ``primarytype``, ``secondarytype``; recordings by
``recording``, ``artist``, ``artistname``, ``arid``, ``rid``, ``dur``, ``qdur``, ``release``,
``reid``, ``rgid``, ``tnum``, ``tracks``, ``date``, ``country``, ``status``, ``format``,
``primarytype``, ``secondarytype``. The query is parsed by :mod:`tests.fakes.lucene`; results come
best first with a ``score`` from 100 down, then paged (``limit`` 1–100, default 25; ``offset``),
in the real answer's shape: ``created``, ``count``, ``offset`` and ``releases`` / ``recordings``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tests.fakes.lucene import QuerySyntaxError, parse, score
from tests.fakes.world import Artist, Recording, Release, World

__all__ = ["QuerySyntaxError", "search_page"]

Credit = Callable[[list[Artist]], list[dict[str, Any]]]
_STATUS_ID = {"Official": "4e304316-386d-3409-af2e-78857eec5cfe", "Bootleg": "1156806e-d06a-38bd-83f0-cf2284a808b9"}
_TYPE_ID = {"Album": "f529b476-6e62-324f-b0aa-1f3e33d313fc", "Single": "d6038452-8ee0-3f68-affc-2de9a1ede0b9"}
_SECONDARY_ID = {"Compilation": "dd2a21e1-0c00-3729-a7a0-de60b84eb5d1", "Live": "6fd474e2-6b58-3102-9d17-d6f7eb7da0a0"}


def _credit_text(artists: list[Artist]) -> str:
    if len(artists) < 2:
        return artists[0].name if artists else ""
    return ", ".join(a.name for a in artists[:-1]) + " feat. " + artists[-1].name


def _release_fields(rel: Release) -> dict[str, list[Any]]:
    return {
        "release": [rel.title],
        "artist": [_credit_text(rel.artists), *(a.name for a in rel.artists)],
        "artistname": [a.name for a in rel.artists],
        "arid": [a.mbid for a in rel.artists],
        "reid": [rel.mbid],
        "rgid": [rel.rg_mbid],
        "tracks": [rel.track_count],
        "tracksmedium": [len(m.tracks) for m in rel.media],
        "mediums": [len(rel.media)],
        "date": [rel.date],
        "country": [rel.country],
        "status": [rel.status],
        "format": [m.format for m in rel.media],
        "primarytype": [rel.primary_type],
        "secondarytype": list(rel.secondary_types),
    }


def _recording_fields(rec: Recording, world: World) -> dict[str, list[Any]]:
    seen = world.appearances(rec)
    return {
        "recording": [rec.title],
        "artist": [_credit_text(rec.artists), *(a.name for a in rec.artists)],
        "artistname": [a.name for a in rec.artists],
        "arid": [a.mbid for a in rec.artists],
        "rid": [rec.mbid],
        "dur": [rec.length_ms],
        "qdur": [rec.length_ms // 2000],
        "release": [r.title for r, _, _ in seen],
        "reid": [r.mbid for r, _, _ in seen],
        "rgid": [r.rg_mbid for r, _, _ in seen],
        "tnum": [t.position for _, _, t in seen],
        "tracks": [len(m.tracks) for _, m, _ in seen],
        "date": [r.date for r, _, _ in seen],
        "country": [r.country for r, _, _ in seen],
        "status": [r.status for r, _, _ in seen],
        "format": [m.format for _, m, _ in seen],
        "primarytype": [r.primary_type for r, _, _ in seen],
        "secondarytype": [t for r, _, _ in seen for t in r.secondary_types],
    }


def _group(rel: Release) -> dict[str, Any]:
    return {
        "id": rel.rg_mbid,
        "type-id": _TYPE_ID.get(rel.primary_type),
        "primary-type-id": _TYPE_ID.get(rel.primary_type),
        "title": rel.rg_title,
        "primary-type": rel.primary_type,
        "secondary-types": list(rel.secondary_types),
        "secondary-type-ids": [_SECONDARY_ID.get(t) for t in rel.secondary_types],
    }


def _release_summary(rel: Release, credit: Credit) -> dict[str, Any]:
    return {
        "id": rel.mbid,
        "status-id": _STATUS_ID.get(rel.status),
        "count": 1,
        "title": rel.title,
        "status": rel.status,
        "text-representation": {"language": "eng", "script": "Latn"},
        "artist-credit": credit(rel.artists),
        "release-group": _group(rel),
        "date": rel.date,
        "country": rel.country,
        "release-events": [{"date": rel.date, "area": {"name": rel.country, "iso-3166-1-codes": [rel.country]}}],
        "track-count": rel.track_count,
    }


def _release_result(rel: Release, credit: Credit) -> dict[str, Any]:
    doc = _release_summary(rel, credit)
    doc["barcode"] = ""
    doc["media"] = [{"format": m.format, "disc-count": 0, "track-count": len(m.tracks)} for m in rel.media]
    return doc


def _recording_result(rec: Recording, world: World, credit: Credit) -> dict[str, Any]:
    seen = world.appearances(rec)
    releases = []
    for rel, medium, track in seen:
        summary = _release_summary(rel, credit)
        del summary["artist-credit"]  # MusicBrainz leaves it out when it equals the recording's
        summary["media"] = [
            {
                "position": medium.position,
                "format": medium.format,
                "track": [
                    {"id": track.mbid, "number": str(track.position), "title": track.title, "length": track.length_ms}
                ],
                "track-count": len(medium.tracks),
                "track-offset": track.position - 1,
            }
        ]
        releases.append(summary)
    return {
        "id": rec.mbid,
        "score": 0,
        "title": rec.title,
        "length": rec.length_ms,
        "video": None,
        "artist-credit": credit(rec.artists),
        "first-release-date": min((r.date for r, _, _ in seen), default=None),
        "releases": releases,
    }


_INDEXES: dict[int, tuple[World, tuple[int, int], dict[str, list[tuple[dict[str, list[Any]], Any]]]]] = {}


def _index(world: World) -> dict[str, list[tuple[dict[str, list[Any]], Any]]]:
    """The search fields of every release and recording, built once per world (rebuilt if it grows)."""
    size = (len(world.releases), len(world.recordings))
    known = _INDEXES.get(id(world))
    if known is not None and known[0] is world and known[1] == size:
        return known[2]
    index = {
        "release": [(_release_fields(rel), rel) for rel in world.releases.values()],
        "recording": [(_recording_fields(rec, world), rec) for rec in world.recordings.values()],
    }
    _INDEXES[id(world)] = (world, size, index)
    return index


def search_page(world: World, entity: str, query: dict[str, str], credit: Credit) -> dict[str, Any]:
    """The answer to a search; raises :class:`QuerySyntaxError` (→ 400) for a bad query or paging."""
    text = query.get("query", "")
    try:
        limit = int(query.get("limit") or 25)
        offset = int(query.get("offset") or 0)
    except ValueError as exc:
        raise QuerySyntaxError(f"bad paging: {exc}") from exc
    if not 1 <= limit <= 100 or offset < 0:
        raise QuerySyntaxError("limit must be 1 to 100 and offset at least 0")
    node = parse(text, default_field=entity)
    scored: list[tuple[float, int, Any]] = []
    for n, (fields, entity_obj) in enumerate(_index(world)[entity]):
        if (s := score(node, fields)) > 0:
            scored.append((s, n, entity_obj))
    scored.sort(key=lambda item: (-item[0], item[1]))
    top = scored[0][0] if scored else 1.0
    results = []
    for s, _, entity_obj in scored[offset : offset + limit]:
        doc = (
            _release_result(entity_obj, credit) if entity == "release" else _recording_result(entity_obj, world, credit)
        )
        doc["score"] = max(1, round(100 * s / top))
        results.append(doc)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    return {"created": created, "count": len(scored), "offset": offset, f"{entity}s": results}
