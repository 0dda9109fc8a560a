"""The Disc ID lookup against the fake MusicBrainz: the request sent, the answer's shape, the cache."""

from __future__ import annotations

import itertools

from tests.fakes import FakeServices, Library
from tests.fakes.musicbrainz import attach_disc_id, medium_toc
from tests.fakes.server import FaultKind
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.db.identify import write_cache
from wkmp_ai.identify import Identifier
from wkmp_ai.identify.bydisc import DISC_MEDIA
from wkmp_ai.identify.discid import DiscToc
from wkmp_ai.records.identify import FileTags, FileToIdentify, PassageStatus, PassageToIdentify, group_files


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
        async with Identifier(ident_settings, CacheReads(db), fast_options()) as ident:
            found = await ident.disc_releases(toc.disc_id, toc.toc_string)
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
        async with Identifier(ident_settings, CacheReads(db), fast_options()) as ident:
            again = await ident.disc_releases(toc.disc_id, toc.toc_string)
        assert [r["id"] for r in again] == [release.mbid] and fakes.musicbrainz.count() == 0
    finally:
        medium.disc_ids.clear()  # the library is shared by the module's tests


async def test_an_unknown_disc_is_an_empty_answer_not_an_error(
    ident_settings: Settings, fakes: FakeServices, db: Database
) -> None:
    toc = DiscToc(1, 2, 30_150, (150, 15_150))  # two 200 s tracks: no release has them
    async with Identifier(ident_settings, CacheReads(db), fast_options()) as ident:
        assert await ident.disc_releases(toc.disc_id, toc.toc_string) == []  # the fuzzy answer, empty
        assert await ident.disc_releases(toc.disc_id, "") == []  # no toc: 404
        assert await ident.disc_releases(toc.disc_id, "") == []  # the 404 is cached as well
    assert fakes.musicbrainz.count("/ws/2/discid/") == 2


def _rip_of(library: Library) -> tuple[FileToIdentify, list[str]]:
    """A whole-CD rip of the library's first release as one file: its passages are the tracks."""
    release = next(iter(library.world.releases.values()))
    medium = release.media[0]
    lead_out, offsets = medium_toc(medium)
    toc = DiscToc(1, len(offsets), lead_out, tuple(offsets))
    bounds = [*offsets, lead_out]
    passages = tuple(
        PassageToIdentify(f"p{i}", None, (b - a) / 75, (a - 150) * 376_320, (b - 150) * 376_320)
        for i, (a, b) in enumerate(itertools.pairwise(bounds))
    )
    rip = FileToIdentify(
        "f1", "Rip/CDImage.flac", "Rip", FileTags(), passages, disc_id=toc.disc_id, disc_toc=toc.toc_string
    )
    return rip, [t.recording.mbid for t in medium.tracks]


async def test_one_fitting_release_identifies_the_whole_rip_in_one_request(
    ident_settings: Settings, fakes: FakeServices, library: Library, db: Database
) -> None:
    rip, recordings = _rip_of(library)
    medium = next(iter(library.world.releases.values())).media[0]
    attach_disc_id(medium)
    try:
        async with Identifier(
            ident_settings, CacheReads(db), fast_options(acousticbrainz=False, cover_art=False)
        ) as ident:
            result = await ident.identify_album(group_files([rip])[0])
    finally:
        medium.disc_ids.clear()
    assert [p.status for p in result.passages] == [PassageStatus.IDENTIFIED] * len(recordings)
    assert [p.recording.mbid for p in result.passages if p.recording] == recordings
    assert {p.method for p in result.passages} == {"disc_id"}
    assert fakes.musicbrainz.count() == 1 and fakes.acoustid.count() == 0


async def test_a_refused_disc_lookup_does_not_stop_identification(
    ident_settings: Settings, fakes: FakeServices, library: Library, db: Database
) -> None:
    rip, _recordings = _rip_of(library)
    fakes.musicbrainz.inject(FaultKind.STATUS, status=400, match="/ws/2/discid/")
    async with Identifier(ident_settings, CacheReads(db), fast_options(acousticbrainz=False, cover_art=False)) as ident:
        result = await ident.identify_album(group_files([rip])[0])
        assert ident.http["musicbrainz"].available
    assert fakes.musicbrainz.count("/ws/2/discid/") == 1
    assert all(p.status is not PassageStatus.PENDING for p in result.passages)  # not left waiting for MusicBrainz


async def test_a_failed_disc_lookup_leaves_every_file_of_the_album_waiting(
    ident_settings: Settings, fakes: FakeServices, library: Library, db: Database
) -> None:
    """MusicBrainz fails the Disc ID lookup of a rip that shares its folder with another file: the
    other file was never looked up either, so it waits with the rip (not "no match")."""
    rip, _recordings = _rip_of(library)
    bonus = FileToIdentify(
        "f2", "Rip/Bonus.flac", "Rip", FileTags(), (PassageToIdentify("q0", "AQADbonus", 200.0, 0, 200 * 28_224_000),)
    )
    fakes.musicbrainz.inject(FaultKind.STATUS, status=500, times=1000, match="/ws/2/discid/")
    async with Identifier(ident_settings, CacheReads(db), fast_options(acousticbrainz=False, cover_art=False)) as ident:
        (group,) = group_files([rip, bonus])
        result = await ident.identify_album(group)
    assert {p.status for p in result.passages} == {PassageStatus.PENDING}
    assert len(result.passages) == len(rip.passages) + 1
