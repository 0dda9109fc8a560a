"""Fake AcousticBrainz (``/api/v1``) and Cover Art Archive (``/release/{mbid}``) services.

AcousticBrainz (acousticbrainz-server ``webserver/views/api/v1/core.py``): ``/{mbid}/high-level``
answers the document or 404 ``{"message": "Not found"}``; the bulk ``/high-level?recording_ids=
a;b`` (≤ 25) answers ``{"<mbid>": {"0": document}}`` and leaves out recordings without data.
``bulk=False`` plays a mirror without the bulk route. Over the rate limit: 429.

Cover Art Archive: ``/release/{mbid}`` redirects (307) to an archive.org-like index, which lists
``images`` with ``types``, ``front``/``back``, ``image`` and ``thumbnails`` URLs on this server;
the images are real JPEGs (1500 px originals, 1200 px thumbnails). No art: 404.
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any

from PIL import Image

from tests.fakes.server import FakeService, Request, Response
from tests.fakes.world import World

__all__ = ["FakeAcousticBrainz", "FakeCoverArt"]

_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class FakeAcousticBrainz(FakeService):
    name = "acousticbrainz"
    throttle_status = 429

    def __init__(self, world: World, *, rate: float | None = 1.0, bulk: bool = True, **kw: Any):
        super().__init__(rate=rate, **kw)
        self.world = world
        self.bulk = bulk

    def throttle_response(self) -> Response:
        return Response.json(
            {"message": "Too Many Requests"},
            status=429,
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "10", "X-RateLimit-Reset-In": "1"},
        )

    def _doc(self, mbid: str) -> dict[str, Any] | None:
        rec = self.world.recordings.get(mbid)
        return rec.highlevel if rec is not None else None

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if parts[:2] != ["api", "v1"]:
            return Response.json({"message": "Not found"}, status=404)
        if parts[2:] == ["high-level"] and self.bulk:
            ids = [i for i in request.query.get("recording_ids", "").split(";") if i]
            if not ids:
                return Response.json({"message": "Missing `recording_ids` parameter"}, status=400)
            if len(ids) > 25:
                return Response.json({"message": "More than 25 recordings not allowed per request"}, status=400)
            out: dict[str, Any] = {}
            for raw in ids:
                mbid = raw.split(":")[0].lower()
                if not _MBID.match(mbid):
                    return Response.json({"message": f"'{mbid}' is not a valid UUID"}, status=400)
                doc = self._doc(mbid)
                if doc is not None:
                    out[mbid] = {"0": doc}
            return Response.json(out)
        if len(parts) == 4 and parts[3] == "high-level" and _MBID.match(parts[2].lower()):
            doc = self._doc(parts[2].lower())
            if doc is None:
                return Response.json({"message": "Not found"}, status=404)
            return Response.json(doc)
        return Response.json({"message": "Not found"}, status=404)


_NAMED = re.compile(r"(front|back)(?:-(250|500|1200))?")


@functools.cache
def _jpeg(size: int) -> bytes:
    """One image per size, made once: encoding in a request would stall the server's timing."""
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (120, 80, 200)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


class FakeCoverArt(FakeService):
    name = "coverart"
    throttle_status = 503

    def __init__(self, world: World, *, rate: float | None = None, **kw: Any):
        super().__init__(rate=rate, unlimited=("/ia/",), **kw)  # /ia/ plays archive.org
        self.world = world

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "release":
            return Response(307, b"", {"Location": f"{self.url}/ia/mbid-{parts[1]}/index.json"})
        if len(parts) == 3 and parts[0] == "ia" and parts[2] == "index.json":
            return self._index(parts[1].removeprefix("mbid-"))
        if len(parts) == 3 and parts[0] == "release" and parts[2].endswith(".jpg"):
            return self._image(parts[1], parts[2])
        if len(parts) == 3 and parts[0] == "release" and (named := _NAMED.fullmatch(parts[2])):
            return self._named(parts[1], named[1], named[2])
        if len(parts) == 3 and parts[0] == "ia" and parts[2].endswith(".jpg"):  # where _named redirects to
            _name, thumb, size = parts[2].removesuffix(".jpg").rpartition("_thumb")
            return self._image(parts[1].removeprefix("mbid-"), f"x-{size}.jpg" if thumb else "full.jpg")
        return Response(404, b"Not Found", {"Content-Type": "text/plain"})

    def _named(self, mbid: str, kind: str, size: str | None) -> Response:
        """``/release/{mbid}/front-1200``: a redirect to that image's thumbnail on archive.org, as the
        real archive answers; 404 when the release has no such image."""
        release = self.world.releases.get(mbid)
        if release is None or not release.artwork or not getattr(release, kind):
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        n = 1 if kind == "front" else 2
        name = f"mbid-{mbid}-{n}" + (f"_thumb{size}" if size else "") + ".jpg"
        return Response(307, b"", {"Location": f"{self.url}/ia/mbid-{mbid}/{name}"})

    def _index(self, mbid: str) -> Response:
        release = self.world.releases.get(mbid)
        if release is None or not release.artwork:
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        images = []
        for n, kind in enumerate(("front", "back"), 1):
            if not getattr(release, kind):
                continue
            base = f"{self.url}/release/{mbid}/{n}"
            images.append(
                {
                    "approved": True,
                    "front": kind == "front",
                    "back": kind == "back",
                    "comment": "",
                    "edit": 1000 + n,
                    "id": n,
                    "types": [kind.capitalize()],
                    "image": f"{base}.jpg",
                    "thumbnails": {
                        "250": f"{base}-250.jpg",
                        "500": f"{base}-500.jpg",
                        "1200": f"{base}-1200.jpg",
                        "small": f"{base}-250.jpg",
                        "large": f"{base}-500.jpg",
                    },
                }
            )
        return Response.json({"images": images, "release": f"https://musicbrainz.org/release/{mbid}"})

    def _image(self, mbid: str, name: str) -> Response:
        if mbid not in self.world.releases:
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        stem = name.removesuffix(".jpg")
        size = 1500 if "-" not in stem else int(stem.split("-")[1])
        return Response(200, _jpeg(size), {"Content-Type": "image/jpeg"})
