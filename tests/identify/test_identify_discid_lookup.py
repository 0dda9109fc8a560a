"""The Disc ID lookup against the fake MusicBrainz: the request sent, the answer's shape, the cache."""

from __future__ import annotations

from tests.fakes import FakeServices, Library
from tests.fakes.musicbrainz import attach_disc_id, medium_toc
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.db.identify import write_cache
from wkmp_ai.identify import Identifier
from wkmp_ai.identify.bydisc import DISC_MEDIA, disc_releases
from wkmp_ai.identify.discid import DiscToc


async def test_a_known_disc_names_its_release_once_then_from_the_cache(
    ident_settings: Settings, fakes: FakeServices, library: Library, db: Database
) -> None:
    release = next(iter(library.world.releases.values()))
    medium = release.media[0]
    fake_id = attach_disc_id(medium)  # the fake's own implementation of the algorithm
    lead_out, offsets = medium_toc(medium)
    toc = DiscToc(1, len(offsets), lead_out, tuple(offsets))
    assert toc.disc_id == fake_id  # ours agrees with it on a 12-track disc
    try:
        async with Identifier(ident_settings, db, fast_options()) as ident:
            found = await disc_releases(ident, toc.disc_id, toc.toc_string)
            assert [r["id"] for r in found] == [release.mbid]
            assert found[0][DISC_MEDIA] == [1]
            assert len(found[0]["media"][0]["tracks"]) == len(medium.tracks)
            assert found[0]["media"][0]["tracks"][0]["recording"]["id"] == medium.tracks[0].recording.mbid
            sent = [r for r in fakes.musicbrainz.requests if r.path.startswith("/ws/2/discid/")]
            assert len(sent) == 1 and sent[0].path == f"/ws/2/discid/{toc.disc_id}"
            assert sent[0].query["toc"] == toc.toc_string
            assert set(sent[0].query["inc"].replace(" ", "+").split("+")) == {
                "recordings",
                "artist-credits",
                "release-groups",
            }
            with db.write() as conn:
                write_cache(conn, ident.drain_cache())
        fakes.reset()
        async with Identifier(ident_settings, db, fast_options()) as ident:
            again = await disc_releases(ident, toc.disc_id, toc.toc_string)
        assert [r["id"] for r in again] == [release.mbid] and fakes.musicbrainz.count() == 0
    finally:
        medium.disc_ids.clear()  # the library is shared by the module's tests


async def test_an_unknown_disc_is_an_empty_answer_not_an_error(
    ident_settings: Settings, fakes: FakeServices, db: Database
) -> None:
    toc = DiscToc(1, 2, 30_150, (150, 15_150))  # two 200 s tracks: no release has them
    async with Identifier(ident_settings, db, fast_options()) as ident:
        assert await disc_releases(ident, toc.disc_id, toc.toc_string) == []  # the fuzzy answer, empty
        assert await disc_releases(ident, toc.disc_id, "") == []  # no toc: 404
        assert await disc_releases(ident, toc.disc_id, "") == []  # the 404 is cached as well
    assert fakes.musicbrainz.count("/ws/2/discid/") == 2
