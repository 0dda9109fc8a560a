"""Album art from the Cover Art Archive: asked for by the addresses MusicBrainz's flags name
(``/release/{mbid}/front-1200``), the release's listing only when those flags are silent or wrong."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.fakes import FakeServices, FaultKind, Library
from tests.fakes.seed import seed_files
from tests.identify.test_identify_faults import identify
from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.errors import ErrorCode

ART_PROBLEMS = {ErrorCode.MISSING_ALBUM_ART, ErrorCode.COVERART_NETWORK_ERROR, ErrorCode.COVER_ART_INVALID}


def archive_requests(fakes: FakeServices) -> list[str]:
    """The rate-limited requests to the archive (its redirects to archive.org left out)."""
    return [r.path for r in fakes.coverart.requests if not r.path.startswith("/ia/")]


@pytest.mark.parametrize(("album", "kinds"), [(3, ["front", "back"]), (1, ["front"])])
async def test_the_images_musicbrainz_names_cost_one_request_each_and_no_listing(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library, album: int, kinds: list[str]
) -> None:
    release = library.albums[album].expected_release
    assert [k for k in ("front", "back") if getattr(release, k)] == kinds  # the world as this test reads it
    seeded = seed_files(db, [(f, False) for f in library.albums[album].files])
    (result,) = await identify(ident_settings, db, seeded)
    assert archive_requests(fakes) == [f"/release/{release.mbid}/{kind}-1200" for kind in kinds]
    assert sorted((a.image_type, a.width, a.height) for a in result.art) == sorted(
        (f"album_{kind}", 1024, 1024) for kind in kinds
    )
    for art in result.art:  # written next to the album as 1024 px JPEGs
        with Image.open(ident_settings.root_folder / art.rel_path) as image:
            assert (image.format, image.size) == ("JPEG", (1024, 1024))


async def test_a_release_without_a_front_image_costs_no_request(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    assert not library.albums[4].expected_release.front
    seeded = seed_files(db, [(f, False) for f in library.albums[4].files])
    (result,) = await identify(ident_settings, db, seeded)
    assert archive_requests(fakes) == [] and result.art == ()
    assert ErrorCode.MISSING_ALBUM_ART in {w.code for w in result.warnings}


async def test_an_address_the_archive_does_not_know_is_looked_up_in_the_listing(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    release = library.albums[3].expected_release
    fakes.coverart.inject(FaultKind.STATUS, status=404, match="/front-1200")  # the flags were stale
    seeded = seed_files(db, [(f, False) for f in library.albums[3].files])
    (result,) = await identify(ident_settings, db, seeded)
    assert archive_requests(fakes) == [
        f"/release/{release.mbid}/front-1200",
        f"/release/{release.mbid}",  # the listing, once
        f"/release/{release.mbid}/1-1200.jpg",  # the front image it names
        f"/release/{release.mbid}/back-1200",
    ]
    assert sorted(a.image_type for a in result.art) == ["album_back", "album_front"]
    assert not {w.code for w in result.warnings} & ART_PROBLEMS


async def test_a_front_image_neither_address_nor_listing_has_is_missing_art(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    release = library.albums[3].expected_release
    fakes.coverart.inject(FaultKind.STATUS, status=404, match="/front-1200")
    fakes.coverart.inject(FaultKind.STATUS, status=404, match=f"/release/{release.mbid}")  # and no listing
    seeded = seed_files(db, [(f, False) for f in library.albums[3].files])
    (result,) = await identify(ident_settings, db, seeded)
    assert [a.image_type for a in result.art] == ["album_back"]
    missing = [w for w in result.warnings if w.code is ErrorCode.MISSING_ALBUM_ART]
    assert len(missing) == 1 and release.mbid in missing[0].message
