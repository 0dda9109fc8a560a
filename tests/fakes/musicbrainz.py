"""A fake MusicBrainz web service v2 (JSON), answering from a :class:`~tests.fakes.world.World`.

Routes (https://musicbrainz.org/doc/MusicBrainz_API): ``/ws/2/release/{mbid}``,
``/ws/2/recording/{mbid}``, ``/ws/2/work/{mbid}``, the browse ``/ws/2/recording?release=…``,
the searches ``/ws/2/release?query=…`` and ``/ws/2/recording?query=…`` (:mod:`tests.fakes.mbsearch`)
and the Disc ID lookup ``/ws/2/discid/{discid}?toc=…`` (the disc with the releases whose media
carry it, each medium listing its ``discs``; an unknown disc with a ``toc`` gets the fuzzy answer
``{"release-count", "release-offset", "releases"}`` of the media with as many tracks, each within
3 s of the TOC's length — the real server's tolerance is its own; without a ``toc``, 404),
with the ``inc`` parameters the real one knows (``recordings``, ``artist-credits``,
``release-groups``, ``tags``, ``media``, ``releases``, ``work-rels``, ``recording-level-rels``,
``work-level-rels``) and its field names (``artist-credit``, ``media[].tracks[].recording``,
``relations[].work``, ``cover-art-archive``). Like the real one it answers 503 to more than one
request a second, 400 to an invalid MBID, 404 to an unknown one, and 403 to a client without a
proper User-Agent. ``max_tracks_in_lookup`` cuts long track lists the way a big release may be.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from tests.fakes.mbsearch import QuerySyntaxError, search_page
from tests.fakes.server import FakeService, Request, Response
from tests.fakes.world import Artist, Medium, Recording, Release, Work, World

__all__ = ["FakeMusicBrainz", "attach_disc_id", "medium_toc"]

_DISCID = re.compile(r"^[A-Za-z0-9._]{27}-$")
LEAD_IN = 150


def medium_toc(medium: Medium) -> tuple[int, list[int]]:
    """(lead-out, track offsets) in CD frames, lead-in included, of a CD pressed from these track lengths."""
    offsets, at = [], LEAD_IN
    for track in medium.tracks:
        offsets.append(at)
        at += round(track.length_ms * 75 / 1000)
    return at, offsets


def disc_id(first: int, last: int, lead_out: int, offsets: list[int]) -> str:
    """libdiscid's algorithm, written here on its own so the fake checks the service's copy of it."""
    sha = hashlib.sha1(usedforsecurity=False)
    sha.update(b"%02X%02X" % (first, last))
    for value in [lead_out, *offsets, *([0] * (99 - len(offsets)))]:
        sha.update(b"%08X" % value)
    return base64.b64encode(sha.digest()).decode().translate(str.maketrans("+/=", "._-"))


def attach_disc_id(medium: Medium) -> str:
    """Give ``medium`` the Disc ID of a CD with its track lengths, as a user submitting it would."""
    lead_out, offsets = medium_toc(medium)
    found = disc_id(1, len(offsets), lead_out, offsets)
    if found not in medium.disc_ids:
        medium.disc_ids.append(found)
    return found


_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PERFORMANCE = "a3005666-a872-32c3-ad06-98af558e99b0"
_COMPOSER = "d59d99ea-23d4-4a80-b066-edca32ee158f"
RATE_LIMIT_MESSAGE = (
    "Your requests are exceeding the allowable rate limit. Please see "
    "https://wiki.musicbrainz.org/MusicBrainz_API/Rate_Limiting for more information."
)


def _credit(artists: list[Artist]) -> list[dict[str, Any]]:
    out = []
    for i, a in enumerate(artists):
        join = "" if i == len(artists) - 1 else (" feat. " if i == len(artists) - 2 else ", ")
        out.append(
            {
                "name": a.name,
                "joinphrase": join,
                "artist": {
                    "id": a.mbid,
                    "name": a.name,
                    "sort-name": a.sort_name,
                    "disambiguation": "",
                    "type": "Person",
                    "type-id": "b6e035f4-3ce9-331c-97df-83397230b0df",
                },
            }
        )
    return out


def _tags(names: list[str]) -> list[dict[str, Any]]:
    return [{"name": n, "count": 10 - i} for i, n in enumerate(names)]


class FakeMusicBrainz(FakeService):
    name = "musicbrainz"
    throttle_status = 503

    def __init__(self, world: World, *, rate: float | None = 1.0, max_tracks_in_lookup: int | None = None, **kw: Any):
        super().__init__(rate=rate, **kw)
        self.world = world
        self.max_tracks_in_lookup = max_tracks_in_lookup

    def throttle_response(self) -> Response:
        return Response.json(
            {"error": RATE_LIMIT_MESSAGE},
            status=503,
            headers={"X-RateLimit-Limit": "1200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"},
        )

    def handle(self, request: Request) -> Response:
        agent = request.headers.get("user-agent", "")
        if not agent or agent.startswith(("python-httpx", "python-requests")):
            return Response.json({"error": "please give your application a meaningful User-Agent"}, status=403)
        parts = request.path.strip("/").split("/")
        if parts[:2] != ["ws", "2"] or len(parts) < 3:
            return Response.json({"error": "Not Found"}, status=404)
        inc = set(filter(None, request.query.get("inc", "").replace(" ", "+").split("+")))
        entity = parts[2]
        if len(parts) == 3 and entity in ("release", "recording") and "query" in request.query:
            try:
                return Response.json(search_page(self.world, entity, request.query, _credit))
            except QuerySyntaxError as exc:
                return Response.json({"error": str(exc)}, status=400)
        if len(parts) == 3 and entity == "recording" and "release" in request.query:
            return self._browse(request.query, inc)
        if len(parts) != 4:
            return Response.json({"error": "Not Found"}, status=404)
        if entity == "discid":
            return self._discid(parts[3], request.query, inc)
        mbid = parts[3].lower()
        if not _MBID.match(mbid):
            return Response.json({"error": "Invalid mbid."}, status=400)
        if entity == "release" and mbid in self.world.releases:
            return Response.json(self.release_json(self.world.releases[mbid], inc))
        if entity == "recording" and mbid in self.world.recordings:
            return Response.json(self.recording_json(self.world.recordings[mbid], inc, with_releases=True))
        if entity == "work" and mbid in self.world.works:
            return Response.json(self.work_json(self.world.works[mbid], inc))
        return Response.json(
            {"error": "Not Found", "help": "For usage, please see: https://musicbrainz.org/development/mmd"},
            status=404,
        )

    # --- documents ----------------------------------------------------------------------------

    def work_json(self, work: Work, inc: set[str]) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": work.mbid,
            "title": work.title,
            "type": "Song",
            "type-id": "f061270a-2fd6-32f1-a641-f0f8676d14e6",
            "language": "eng",
            "languages": ["eng"],
            "iswcs": [],
            "attributes": [],
            "disambiguation": "",
        }
        if ("work-level-rels" in inc or "artist-rels" in inc) and work.composer is not None:
            doc["relations"] = [
                {
                    "type": "composer",
                    "type-id": _COMPOSER,
                    "target-type": "artist",
                    "direction": "backward",
                    "attributes": [],
                    "attribute-values": {},
                    "begin": None,
                    "end": None,
                    "ended": False,
                    "artist": {
                        "id": work.composer.mbid,
                        "name": work.composer.name,
                        "sort-name": work.composer.sort_name,
                    },
                }
            ]
        return doc

    def recording_json(self, rec: Recording, inc: set[str], *, with_releases: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": rec.mbid,
            "title": rec.title,
            "length": rec.length_ms,
            "video": False,
            "disambiguation": "",
            "first-release-date": min((r.date for r, _, _ in self.world.appearances(rec)), default=None),
        }
        if "artist-credits" in inc or "artists" in inc:
            doc["artist-credit"] = _credit(rec.artists)
        if "work-rels" in inc:
            doc["relations"] = [
                {
                    "type": "performance",
                    "type-id": _PERFORMANCE,
                    "target-type": "work",
                    "direction": "forward",
                    "attributes": [],
                    "attribute-values": {},
                    "attribute-ids": {},
                    "begin": None,
                    "end": None,
                    "ended": False,
                    "source-credit": "",
                    "target-credit": "",
                    "work": self.work_json(w, inc),
                }
                for w in rec.works
            ]
        if "tags" in inc:
            doc["tags"] = _tags(rec.tags)
        if with_releases and "releases" in inc:
            doc["releases"] = []
            for rel, medium, track in self.world.appearances(rec):
                summary = self._release_summary(rel)
                if "media" in inc:
                    summary["media"] = [
                        {
                            "position": medium.position,
                            "format": medium.format,
                            "title": "",
                            "track-count": len(medium.tracks),
                            "track-offset": track.position - 1,
                            "tracks": [self._track_json(track, set())],
                        }
                    ]
                doc["releases"].append(summary)
        return doc

    @staticmethod
    def _track_json(track: Any, inc: set[str]) -> dict[str, Any]:
        return {
            "id": track.mbid,
            "number": str(track.position),
            "position": track.position,
            "title": track.title,
            "length": track.length_ms,
        }

    def _release_summary(self, rel: Release) -> dict[str, Any]:
        return {
            "id": rel.mbid,
            "title": rel.title,
            "status": rel.status,
            "status-id": "4e304316-386d-3409-af2e-78857eec5cfe",
            "date": rel.date,
            "country": rel.country,
            "quality": "normal",
            "disambiguation": "",
            "barcode": None,
            "packaging": None,
            "release-events": [{"date": rel.date, "area": {"iso-3166-1-codes": [rel.country], "name": rel.country}}],
            "text-representation": {"language": "eng", "script": "Latn"},
        }

    def release_json(self, rel: Release, inc: set[str]) -> dict[str, Any]:
        doc = self._release_summary(rel)
        doc["cover-art-archive"] = {
            "artwork": rel.artwork,
            "count": int(rel.front) + int(rel.back),
            "front": rel.front,
            "back": rel.back,
            "darkened": False,
        }
        if "artist-credits" in inc or "artists" in inc:
            doc["artist-credit"] = _credit(rel.artists)
        if "release-groups" in inc:
            doc["release-group"] = {
                "id": rel.rg_mbid,
                "title": rel.rg_title,
                "primary-type": rel.primary_type,
                "secondary-types": list(rel.secondary_types),
                "first-release-date": rel.date,
                "disambiguation": "",
            }
        if "tags" in inc:
            doc["tags"] = _tags(rel.tags)
        rec_inc = {"artist-credits"} & inc
        if "recording-level-rels" in inc and "work-rels" in inc:
            rec_inc |= {"work-rels"} | ({"work-level-rels"} & inc)
        doc["media"] = []
        budget = self.max_tracks_in_lookup
        for medium in rel.media:
            entry: dict[str, Any] = {
                "position": medium.position,
                "format": medium.format,
                "title": "",
                "track-count": len(medium.tracks),
                "track-offset": 0,
            }
            if "recordings" in inc:
                tracks = []
                for track in medium.tracks:
                    if budget is not None:
                        if budget <= 0:
                            break
                        budget -= 1
                    t = self._track_json(track, inc)
                    if "artist-credits" in inc:
                        t["artist-credit"] = _credit(track.recording.artists)
                    t["recording"] = self.recording_json(track.recording, rec_inc)
                    tracks.append(t)
                entry["tracks"] = tracks
            doc["media"].append(entry)
        return doc

    def _discid(self, discid: str, query: dict[str, str], inc: set[str]) -> Response:
        if not _DISCID.match(discid):
            return Response.json({"error": "Invalid discid."}, status=400)
        known = [(rel, m) for rel in self.world.releases.values() for m in rel.media if discid in m.disc_ids]
        if known:
            medium = known[0][1]
            lead_out, offsets = medium_toc(medium)
            doc = {"id": discid, "sectors": lead_out, "offset-count": len(offsets), "offsets": offsets}
            unique = {r.mbid: r for r, _ in known}
            doc["releases"] = [self._with_discs(r, inc) for r in unique.values()]
            return Response.json(doc)
        toc = [int(x) for x in query.get("toc", "").split("+") if x.isdigit()]
        if len(toc) < 4 or len(toc) != toc[1] - toc[0] + 4:
            return Response.json({"error": "Not Found"}, status=404)
        lead_out, offsets = toc[2], toc[3:]
        lengths = [(b - a) / 75 for a, b in zip(offsets, [*offsets[1:], lead_out], strict=True)]
        fuzzy = [
            rel
            for rel in self.world.releases.values()
            if any(
                len(m.tracks) == len(lengths)
                and all(abs(t.length_ms / 1000 - n) <= 3 for t, n in zip(m.tracks, lengths, strict=True))
                for m in rel.media
            )
        ]
        releases = [self._with_discs(r, inc) for r in fuzzy]
        return Response.json({"release-count": len(releases), "release-offset": 0, "releases": releases})

    def _with_discs(self, rel: Release, inc: set[str]) -> dict[str, Any]:
        doc = self.release_json(rel, inc)
        for entry, medium in zip(doc["media"], rel.media, strict=True):
            lead_out, offsets = medium_toc(medium)
            entry["discs"] = [
                {"id": d, "sectors": lead_out, "offset-count": len(offsets), "offsets": offsets}
                for d in medium.disc_ids
            ]
        return doc

    def _browse(self, query: dict[str, str], inc: set[str]) -> Response:
        release = self.world.releases.get(query.get("release", "").lower())
        if release is None:
            return Response.json({"error": "Not Found"}, status=404)
        limit = max(1, min(100, int(query.get("limit") or 25)))
        offset = max(0, int(query.get("offset") or 0))
        recs = list({t.recording.mbid: t.recording for m in release.media for t in m.tracks}.values())
        page = recs[offset : offset + limit]
        return Response.json(
            {
                "recording-count": len(recs),
                "recording-offset": offset,
                "recordings": [self.recording_json(r, inc) for r in page],
            }
        )
