"""Cover art images: validation, resizing to 1024 px, naming beside the audio, folder images."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wkmp_ai.errors import ErrorCode, IngestError
from wkmp_ai.ingest.rootfiles import save_beside
from wkmp_ai.scan.art import find_folder_image, prepare_image


def image_bytes(width: int, height: int, fmt: str = "JPEG", mode: str = "RGB", color=(200, 30, 40)) -> bytes:  # type: ignore[no-untyped-def]
    image = Image.new(mode, (width, height), color)
    # a gradient, so resizing has something to do and the result can be checked
    for x in range(0, width, max(1, width // 16)):
        for y in range(0, height, max(1, height // 16)):
            image.putpixel((x, y), (x % 256, y % 256, 128) + ((255,) if mode == "RGBA" else ()))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def test_small_jpeg_is_kept_byte_for_byte() -> None:
    raw = image_bytes(500, 500)
    art = prepare_image(raw)
    assert (art.width, art.height, art.suffix, art.unchanged) == (500, 500, ".jpg", True)
    assert art.data == raw


def test_large_jpeg_is_resized_to_fit_1024() -> None:
    art = prepare_image(image_bytes(3000, 3000))
    assert (art.width, art.height, art.suffix, art.unchanged) == (1024, 1024, ".jpg", False)
    with Image.open(io.BytesIO(art.data)) as check:
        assert check.size == (1024, 1024) and check.format == "JPEG"


def test_aspect_ratio_and_alpha_are_kept() -> None:
    art = prepare_image(image_bytes(2000, 1000, "PNG", "RGBA", (10, 20, 30, 128)))
    assert (art.width, art.height, art.suffix) == (1024, 512, ".png")
    with Image.open(io.BytesIO(art.data)) as check:
        assert check.mode == "RGBA"


def test_a_large_16_bit_png_is_scaled_to_8_bits_not_clipped_to_white() -> None:
    ramp = (np.arange(1500 * 1500, dtype=np.uint32).reshape(1500, 1500) % 256).astype(np.uint16)
    raw = io.BytesIO()
    Image.fromarray(ramp * 257).save(raw, "PNG")
    art = prepare_image(raw.getvalue())
    assert (art.width, art.height) == (1024, 1024)
    with Image.open(io.BytesIO(art.data)) as out:
        assert abs(np.asarray(out.convert("L"), dtype=np.float64).mean() - ramp.mean()) < 2.0  # clipped: 255


def test_gif_and_bmp_are_accepted_and_reencoded() -> None:
    assert prepare_image(image_bytes(64, 64, "GIF", "P", 3)).suffix in (".jpg", ".png")
    bmp = prepare_image(image_bytes(64, 32, "BMP"))
    assert (bmp.width, bmp.height, bmp.suffix) == (64, 32, ".jpg")


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(image_bytes(800, 800)[:2000], id="truncated jpeg"),
        pytest.param(b"this is text, not an image", id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(_png_header_only(20000, 20000), id="decompression bomb"),
        pytest.param(_png_header_only(100, 100), id="png without data"),
    ],
)
def test_invalid_images_are_rejected(raw: bytes) -> None:
    with pytest.raises(IngestError) as info:
        prepare_image(raw)
    assert info.value.code == ErrorCode.COVER_ART_INVALID


def test_save_beside_names_and_clashes(tmp_path: Path) -> None:
    audio = tmp_path / "01 Song.flac"
    audio.write_bytes(b"x")
    art = prepare_image(image_bytes(100, 100))
    first = save_beside(art, str(audio), now=1_760_013_296)
    assert Path(first).name == "01 Song.jpg"
    assert save_beside(art, str(audio)) == first  # same bytes: reused, not duplicated
    other = prepare_image(image_bytes(120, 100))
    second = save_beside(other, str(audio), now=1_760_013_296)
    assert Path(second).name == "01 Song_2025-10-09T12-34-56Z.jpg"
    assert ":" not in second
    assert Path(first).read_bytes() == art.data and Path(second).read_bytes() == other.data
    third = save_beside(prepare_image(image_bytes(140, 100)), str(audio), now=1_760_013_296)
    assert Path(third).name == "01 Song_2025-10-09T12-34-56Z_2.jpg"


def test_folder_image_preference(tmp_path: Path) -> None:
    assert find_folder_image(str(tmp_path)) is None
    (tmp_path / "Front.PNG").write_bytes(b"x")
    assert find_folder_image(str(tmp_path)) == str(tmp_path / "Front.PNG")
    (tmp_path / "folder.jpg").write_bytes(b"x")
    assert find_folder_image(str(tmp_path)) == str(tmp_path / "folder.jpg")
    (tmp_path / "Cover.jpeg").write_bytes(b"x")
    assert find_folder_image(str(tmp_path)) == str(tmp_path / "Cover.jpeg")
