"""A fake AcoustID web service v2 (``/v2/lookup``), answering from a World.

Like the real server (acoustid-server ``api/v2``): form parameters from the query string or a
(gzip-compressed) form body; ``client`` must be a known key (else error 4, HTTP 400);
``batch=1`` takes ``fingerprint.N``/``duration.N`` (at most 20, else error 19, HTTP 413) and
answers ``{"status":"ok","fingerprints":[{"index":N,"results":[…]}]}``; without it, the first
fingerprint only, as ``{"status":"ok","results":[…]}``. ``meta`` (space-separated, ``+`` in a
URL) nests recordings → releasegroups → releases → mediums → tracks, and ``compress`` drops
titles and artists equal to their parent's. A fingerprint matches only when its duration is
within 7 s of the recording's. Over the rate limit it answers 429 with error code 14.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.server import FakeService, Request, Response
from tests.fakes.world import Artist, Recording, World

__all__ = ["FakeAcoustID"]

MAX_DURATION_DIFF = 7


def _error(code: int, message: str, status: int = 400) -> Response:
    return Response.json({"status": "error", "error": {"code": code, "message": message}}, status=status)


def _artists(artists: list[Artist]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, a in enumerate(artists):
        item: dict[str, Any] = {"id": a.mbid, "name": a.name}
        if i < len(artists) - 1:
            item["joinphrase"] = " feat. "
        out.append(item)
    return out


def _date(text: str) -> dict[str, int]:
    parts = [int(p) for p in text.split("-")]
    return dict(zip(("year", "month", "day"), parts, strict=False))


class FakeAcoustID(FakeService):
    name = "acoustid"
    throttle_status = 429

    def __init__(self, world: World, *, api_key: str = "test-key", rate: float | None = 3.0, **kw: Any):
        super().__init__(rate=rate, **kw)
        self.world = world
        self.api_keys = {api_key}
        self.lookups = 0  # fingerprints looked up (several per batched request)

    def throttle_response(self) -> Response:
        rate = self.rate or 3.0
        return _error(14, f"rate limit ({rate:f} requests per second) exceeded, try again later", status=429)

    def handle(self, request: Request) -> Response:
        if request.path.rstrip("/") != "/v2/lookup":
            return Response.json({"status": "error", "error": {"code": 0, "message": "not found"}}, status=404)
        values = {**request.query, **request.form}
        if not values.get("client"):
            return _error(2, 'missing required parameter "client"')
        if values["client"] not in self.api_keys:
            return _error(4, "invalid API key")
        meta = set(values.get("meta", "").replace("+", " ").split())
        suffixes = sorted(
            {"" if k == "fingerprint" else k.split(".", 1)[1] for k in values if k.split(".")[0] == "fingerprint"},
            key=lambda s: -1 if s == "" else int(s),
        )
        if not suffixes:
            return _error(2, 'missing required parameter "fingerprint"')
        batch = values.get("batch") == "1"
        if not batch:
            suffixes = suffixes[:1]
        if len(suffixes) > 20:
            return _error(19, "request too large", status=413)
        entries = []
        for suffix in suffixes:
            dot = f".{suffix}" if suffix else ""
            try:
                duration = int(values.get(f"duration{dot}", "0"))
            except ValueError:
                duration = 0
            if duration <= 0:
                return _error(2, f'missing required parameter "duration{dot}"')
            fingerprint = values.get(f"fingerprint{dot}", "")
            if not fingerprint.startswith("AQA"):
                if len(suffixes) == 1:
                    return _error(3, "invalid fingerprint")
                continue  # the real server skips a bad one in a batch
            self.lookups += 1
            results = self._results(fingerprint, duration, meta)
            entries.append({"index": int(suffix) if suffix else None, "results": results})
        if batch:
            return Response.json({"status": "ok", "fingerprints": entries})
        return Response.json({"status": "ok", "results": entries[0]["results"] if entries else []})

    def _results(self, fingerprint: str, duration: int, meta: set[str]) -> list[dict[str, Any]]:
        rec = self.world.by_fingerprint.get(fingerprint)
        if rec is None or abs(rec.length_ms / 1000 - duration) > MAX_DURATION_DIFF:
            return []
        result: dict[str, Any] = {"id": rec.acoustid_track, "score": rec.score}
        if meta & {"recordings", "recordingids"}:
            result["recordings"] = [self._recording(rec, meta)]
        return [result]

    def _recording(self, rec: Recording, meta: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": rec.mbid}
        if "recordings" not in meta:
            return out
        out.update({"title": rec.title, "duration": rec.length_ms // 1000, "artists": _artists(rec.artists)})
        compress = "compress" in meta
        groups: dict[str, dict[str, Any]] = {}
        releases: list[dict[str, Any]] = []
        for rel, medium, track in self.world.appearances(rec):
            entry: dict[str, Any] = {
                "id": rel.mbid,
                "title": rel.title,
                "country": rel.country,
                "date": _date(rel.date),
                "releaseevents": [{"country": rel.country, "date": _date(rel.date)}],
                "track_count": rel.track_count,
                "medium_count": len(rel.media),
                "artists": _artists(rel.artists),
            }
            if "tracks" in meta:
                t = {
                    "id": track.mbid,
                    "position": track.position,
                    "title": track.title,
                    "artists": _artists(rec.artists),
                }
                if compress and t["title"] == rec.title:
                    del t["title"]
                if compress and t["artists"] == entry["artists"]:
                    del t["artists"]
                entry["mediums"] = [
                    {
                        "position": medium.position,
                        "track_count": len(medium.tracks),
                        "format": medium.format,
                        "tracks": [t],
                    }
                ]
            if "releasegroups" in meta:
                group = groups.setdefault(
                    rel.rg_mbid,
                    {
                        "id": rel.rg_mbid,
                        "title": rel.rg_title,
                        "type": rel.primary_type,
                        **({"secondarytypes": list(rel.secondary_types)} if rel.secondary_types else {}),
                        "artists": _artists(rel.artists),
                        "releases": [],
                    },
                )
                if compress and entry["title"] == group["title"]:
                    del entry["title"]
                if compress and entry["artists"] == group["artists"]:
                    del entry["artists"]
                group["releases"].append(entry)
            else:
                releases.append(entry)
        if "releasegroups" in meta:
            out["releasegroups"] = list(groups.values())
            if compress:
                for g in out["releasegroups"]:
                    if g.get("artists") == out["artists"]:
                        del g["artists"]
        elif "releases" in meta:
            out["releases"] = releases
        return out
