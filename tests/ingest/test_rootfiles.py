"""The album images identification fetches are written into the root by the import, whole, and
only inside the root; one that cannot be written costs a warning, never the album's rows."""

from __future__ import annotations

import os
from pathlib import Path

from wkmp_ai.errors import ErrorCode
from wkmp_ai.ingest.rootfiles import save_album_art
from wkmp_ai.records.identify import AlbumIdentification, ArtImage

MBID = "0b6c5d3e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"


def _result(*art: ArtImage) -> AlbumIdentification:
    return AlbumIdentification(group_key="k", files=(), passages=(), releases=(), art=art, warnings=())


async def test_fetched_images_are_written_and_kept_without_their_bytes(tmp_path: Path) -> None:
    front = ArtImage(MBID, "album_front", f"Album/{MBID}.front.jpg", 10, 10, data=b"\xff\xd8jpeg")
    known = ArtImage(MBID, "album_back", f"Album/{MBID}.back.jpg", 10, 10)  # already on disk: no bytes
    result = await save_album_art(tmp_path, _result(front, known))
    assert (tmp_path / "Album" / f"{MBID}.front.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert [(a.rel_path, a.data) for a in result.art] == [(front.rel_path, None), (known.rel_path, None)]
    assert result.warnings == ()
    assert [p.name for p in (tmp_path / "Album").iterdir()] == [f"{MBID}.front.jpg"]  # no temporary left


async def test_an_image_outside_the_root_or_unwritable_is_left_out_with_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "Link")
    (root / "File").write_bytes(b"")  # a file where a folder should be
    escaping = ArtImage(MBID, "album_front", f"Link/{MBID}.front.jpg", 10, 10, data=b"x")
    blocked = ArtImage(MBID, "album_back", f"File/{MBID}.back.jpg", 10, 10, data=b"y")
    result = await save_album_art(root, _result(escaping, blocked))
    assert result.art == ()
    assert [(w.code, w.path) for w in result.warnings] == [
        (ErrorCode.COVER_ART_INVALID, escaping.rel_path),
        (ErrorCode.COVER_ART_INVALID, blocked.rel_path),
    ]
    assert all("object at 0x" not in w.message and "Errno" not in w.message for w in result.warnings)
    assert list(outside.iterdir()) == []
