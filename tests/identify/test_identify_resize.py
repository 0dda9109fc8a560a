"""Downloaded covers fitted to 1024 px: the same picture, every kind of pixel, bad bytes refused in plain words."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from tests.hardening.fuzz import png_bomb_header
from wkmp_ai.identify.coverart import ImageRefused, resize_to_jpeg


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _textured(width: int = 1200, height: int = 900, grain: float = 10.0) -> Image.Image:
    """Gradients with grain, like a photographed cover: a resampler's mistakes show on it."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 0.2) % 256, (y * 0.3) % 256, ((x + y) * 0.1) % 256], -1)
    grain = np.random.default_rng(7).normal(0, grain, base.shape)
    return Image.fromarray(np.clip(base + grain, 0, 255).astype(np.uint8))


def _pixels(jpeg: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        return np.asarray(image, dtype=np.float64)


def test_a_textured_cover_is_fitted_with_lanczos_and_stays_the_same_picture() -> None:
    data = _encoded(_textured(), "JPEG", quality=95)
    fitted, width, height = resize_to_jpeg(data)
    assert (width, height) == (1024, 768)
    with Image.open(io.BytesIO(data)) as decoded:
        reference = np.asarray(decoded.resize((1024, 768), Image.Resampling.LANCZOS), dtype=np.float64)
    # 3.4 levels on average: the Q90 encode of grain with 4:2:0 chroma. A nearest-pixel resize reads
    # 4.9 and a box filter 4.4; bilinear (3.6) is too close to tell apart on this picture.
    assert np.abs(_pixels(fitted) - reference).mean() < 4.0


@pytest.mark.parametrize("mode", ["L", "RGBA", "LA", "P", "CMYK"])
def test_every_kind_of_pixel_comes_out_as_the_same_rgb_picture(mode: str) -> None:
    """Grey, alpha (dropped), palette and CMYK all come out RGB, the picture unchanged but for the
    JPEG encode: within 2 levels on average of the source converted to RGB and resized (smooth
    gradients, so that the comparison measures the conversion, not the encoding of grain)."""
    source = _textured(grain=0).convert(mode, dither=Image.Dither.NONE)  # dithering is grain
    data = _encoded(
        source, "JPEG" if mode in ("L", "CMYK") else "PNG", **({"quality": 95} if mode in ("L", "CMYK") else {})
    )
    fitted, width, height = resize_to_jpeg(data)
    assert (width, height) == (1024, 768)
    expected = np.asarray(source.convert("RGB").resize((1024, 768), Image.Resampling.LANCZOS), dtype=np.float64)
    assert np.abs(_pixels(fitted) - expected).mean() < 2.0


def test_sixteen_bits_a_channel_are_scaled_to_eight_not_clipped_to_white() -> None:
    grey = np.asarray(_textured().convert("L"))
    fitted, _w, _h = resize_to_jpeg(_encoded(Image.fromarray(grey.astype(np.uint16) * 257), "PNG"))
    assert abs(_pixels(fitted).mean() - grey.mean()) < 2.0  # clipped, it read 255


def test_a_small_cover_is_not_enlarged_and_loses_its_metadata() -> None:
    exif = Image.Exif()
    exif[0x010E] = "a description that must not travel"
    data, width, height = resize_to_jpeg(_encoded(_textured(300, 200), "JPEG", exif=exif.tobytes()))
    assert (width, height) == (300, 200)
    with Image.open(io.BytesIO(data)) as out:
        assert "exif" not in out.info


@pytest.mark.parametrize(
    "data",
    [
        _encoded(_textured(), "JPEG")[:40_000],
        b"\xff\xd8\xff" + b"x" * 1000,
        b"\x89PNG\r\n\x1a\n" + bytes(100),
        b'<svg xmlns="http://www.w3.org/2000/svg" width="9000" height="9000"/>',
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
        b"",
    ],
    ids=["truncated-jpeg", "jpeg-signature-then-garbage", "png-signature-then-zeros", "svg", "pdf", "empty"],
)
def test_bad_bytes_are_refused_in_plain_words(data: bytes) -> None:
    with pytest.raises(ImageRefused) as refused:
        resize_to_jpeg(data)
    said = refused.value.detail
    assert said.startswith("not a usable image: ") and len(said) > len("not a usable image: ")
    assert "<" not in said and "object at" not in said


@pytest.mark.parametrize("side", [30_000, 12_000])  # Pillow's own bomb limit, and ours below it
def test_a_pixel_bomb_is_refused_from_its_header(side: int) -> None:
    bomb = png_bomb_header(side)  # 900 or 144 million pixels claimed in under 100 bytes
    started = time.process_time()
    with pytest.raises(ImageRefused, match="pixels"):
        resize_to_jpeg(bomb)
    assert time.process_time() - started < 0.5  # refused before any pixel is decoded
