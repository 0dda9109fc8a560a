"""Cover Art Archive: the front and back image of a chosen release (docs/scan.md, *Cover art*).

When the release's MusicBrainz document says which images the archive holds (its
``cover-art-archive`` flags ``front`` and ``back``), each is fetched by its direct address,
``GET /release/{mbid}/front-1200`` (a redirect to its 1200 px thumbnail on archive.org): one request
an image. Otherwise, or when such an address answers 404, ``GET /release/{mbid}`` (redirected the
same way) lists the release's images: ``{"images":[{"types":["Front"],"front":true,"back":false,
"image":url,"thumbnails":{"1200":url,"large":url,…}}],"release":…}``; 404 means there is none. The
1200 px thumbnail is fetched when there is one (less to download than the original; still more
than the 1024 px we keep), else the original. Images are resized to fit 1024 × 1024 with Lanczos
and handed back as JPEG bytes; the import writes them next to the album:
``<folder>/<release-mbid>.front.jpg`` / ``.back.jpg``. An existing file is reused, never fetched
again. Downloaded bytes are untrusted: anything that does not decode whole, or is larger than the
limits, is refused.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from wkmp_ai.errors import ErrorCode, WkmpError, plain_message
from wkmp_ai.identify.evidence import ReleaseDoc
from wkmp_ai.identify.http import ServiceClient, Transient, json_body
from wkmp_ai.scan.art import eight_bits_a_channel

__all__ = [
    "CaaImage",
    "CoverArtClient",
    "ImageRefused",
    "direct_images",
    "listing_from_json",
    "listing_to_json",
    "resize_to_jpeg",
]

MAX_IMAGE_BYTES = 30 * 1024 * 1024
MAX_IMAGE_PIXELS = 80_000_000


class ImageRefused(WkmpError, ValueError):
    """The downloaded bytes are not an image we accept."""

    code = ErrorCode.COVER_ART_INVALID


@dataclass(frozen=True)
class CaaImage:
    kind: str  # front | back
    url: str
    direct: bool = False  # /release/{mbid}/front-1200: named from MusicBrainz's flags, not from a listing


def direct_images(release_mbid: str, doc: ReleaseDoc | None, kinds: set[str]) -> list[CaaImage] | None:
    """The release's ``kinds`` of image by their direct addresses (``/release/{mbid}/front-1200``,
    which the archive redirects to the 1200 px thumbnail), when MusicBrainz's release document says
    which exist; None when it does not say, and the listing must be asked."""
    if doc is None or doc.cover_art_front is not True or doc.cover_art_back is None:
        return None
    present = {"front": True, "back": doc.cover_art_back}
    return [
        CaaImage(kind, f"/release/{release_mbid}/{kind}-1200", direct=True)
        for kind in ("front", "back")
        if kind in kinds and present[kind]
    ]


def _pick(images: list[dict[str, Any]], kind: str) -> CaaImage | None:
    for img in images:
        types = [str(t).lower() for t in img.get("types") or ()]
        if img.get(kind) is True or kind in types:
            thumbs: dict[str, Any] = img["thumbnails"] if isinstance(img.get("thumbnails"), dict) else {}
            url = thumbs.get("1200") or img.get("image") or thumbs.get("large")
            if isinstance(url, str) and url:
                return CaaImage(kind=kind, url=url)
    return None


def parse_listing(doc: Any) -> list[CaaImage]:
    images = [i for i in (doc.get("images") or ()) if isinstance(i, dict)] if isinstance(doc, dict) else []
    return [img for kind in ("front", "back") if (img := _pick(images, kind)) is not None]


def listing_to_json(images: list[CaaImage]) -> str:
    return json.dumps([[i.kind, i.url] for i in images], separators=(",", ":"))


def listing_from_json(text: str) -> list[CaaImage]:
    return [CaaImage(kind=k, url=u) for k, u in json.loads(text)]


def _listing(response: Any) -> list[CaaImage]:
    doc = json_body(response)
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise Transient("answer is not an image listing")
    return parse_listing(doc)


def _image_bytes(response: Any) -> bytes:
    data: bytes = response.content
    if not data:
        raise Transient("empty image")
    if len(data) > MAX_IMAGE_BYTES:
        raise Transient(f"image of {len(data)} bytes is too large")
    return data


def resize_to_jpeg(data: bytes, *, max_px: int = 1024) -> tuple[bytes, int, int]:
    """Decode, fit into ``max_px`` × ``max_px`` (Lanczos, never enlarged); return (JPEG, width, height)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise ImageRefused(f"{img.width}x{img.height} is too many pixels")
                img.load()
                # An RGB image is resized as it is: convert() would copy it first (~1 ms a cover).
                rgb = img if img.mode == "RGB" else eight_bits_a_channel(img).convert("RGB")
                rgb.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                rgb.save(out, "JPEG", quality=90)
                return out.getvalue(), rgb.width, rgb.height
    except ImageRefused:
        raise
    except UnidentifiedImageError as exc:
        raise ImageRefused("not a usable image: not in an image format we read") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused("not a usable image: far too many pixels for a cover") from exc
    except (OSError, ValueError) as exc:
        raise ImageRefused(f"not a usable image: {plain_message(exc)}") from exc


def image_size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as img:
            return img.width, img.height
    except (OSError, ValueError):
        return None


class CoverArtClient:
    def __init__(self, http: ServiceClient):
        self.http = http

    async def listing(self, release_mbid: str) -> list[CaaImage]:
        return await self.http.get_json(f"/release/{release_mbid}", parse=_listing)

    async def download(self, image: CaaImage) -> bytes:
        url = image.url if "://" in image.url else f"{self.http.base_url}/{image.url.lstrip('/')}"
        return await self.http.request("GET", url, parse=_image_bytes)
