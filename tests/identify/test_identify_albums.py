"""Release choice in the situations real libraries bring: deluxe editions, compilations, singles,
split vinyl sides, wrong tags, unknown fingerprints, big releases, mirrors without bulk lookups."""

from __future__ import annotations

import json
from dataclasses import replace

from tests.fakes import FakeServices, Library, Rates
from tests.fakes.seed import Seeded, seed_files
from tests.fakes.world import FileSpec, build_library
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.errors import ErrorCode
from wkmp_ai.identify import Identifier
from wkmp_ai.identify.cache import CacheTTL
from wkmp_ai.ingest.identify import identify_and_write
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.identify import AlbumIdentification, FileTags, FileToIdentify, PassageToIdentify, group_files
from wkmp_ai.ticks import seconds_to_ticks


async def run(settings: Settings, db: Database, seeded: Seeded, **options: object) -> list[AlbumIdentification]:
    async with Identifier(settings, CacheReads(db), fast_options(**options)) as ident:
        return await identify_and_write(ident, Writer(db), group_files(seeded.files))


def spec_in(folder: str, spec: FileSpec, **tags: object) -> FileSpec:
    name = spec.rel_path.rsplit("/", 1)[1]
    return replace(spec, rel_path=f"{folder}/{name}", tags={**spec.tags, **tags})


def linked_release(db: Database) -> dict[str, str]:
    with db.read() as conn:
        rows = conn.execute(
            "SELECT f.path, a.album_mbid FROM passage_albums pa JOIN albums a ON a.guid = pa.album_id "
            "JOIN passages p ON p.guid = pa.passage_id JOIN files f ON f.guid = p.file_id"
        ).fetchall()
    return {path: album for path, album in rows}


async def test_a_deluxe_folder_is_the_deluxe_edition_and_a_live_version_is_a_related_song(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    album = library.albums[6]
    deluxe = next(r for r in library.world.releases.values() if r.title == "Album 6" and r.track_count == 15)
    specs = [(spec_in("Deluxe", f, album="Album 6"), False) for f in album.files]
    for track in deluxe.media[0].tracks[12:]:
        rec = track.recording
        tags = {"title": rec.title, "album": "Album 6", "track_number": track.position}
        specs.append((FileSpec(f"Deluxe/{track.position} {rec.title}.flac", tags, rec, rec.length_ms / 1000), False))
    seeded = seed_files(db, specs)
    (result,) = await run(ident_settings, db, seeded)
    assert result.counts()["identified"] == 15
    assert set(linked_release(db).values()) == {deluxe.mbid}
    assert fakes.musicbrainz.count() == 1
    with db.read() as conn:
        songs = dict(conn.execute("SELECT recording_mbid, guid FROM songs").fetchall())
        related = dict(conn.execute("SELECT guid, related_songs FROM songs WHERE related_songs IS NOT NULL"))
    first, live = songs[album.files[0].recording.mbid], songs[deluxe.media[0].tracks[12].recording.mbid]
    assert json.loads(related[first]) == [live] and json.loads(related[live]) == [first]
    assert len(related) == 2


async def test_a_folder_of_tracks_from_one_compilation_is_that_compilation(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    picks = [library.albums[3].files[0], library.albums[4].files[0], library.albums[5].files[1]]
    seeded = seed_files(db, [(spec_in("Mix", f, album=None, track_number=None), False) for f in picks])
    (result,) = await run(ident_settings, db, seeded)
    assert result.counts()["identified"] == 3
    assert [r.title for r in result.releases] == ["Greatest Hits of Everyone"]
    assert fakes.musicbrainz.count() == 1


async def test_singles_cost_one_recording_lookup_each_and_link_their_own_album(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    picks = [library.albums[3].files[4], library.albums[8].files[6]]
    seeded = seed_files(db, [(spec_in("Singles", f, album=None, track_number=None), False) for f in picks])
    (result,) = await run(ident_settings, db, seeded)
    assert result.counts()["identified"] == 2
    assert fakes.musicbrainz.count("/ws/2/recording/") == 2 and fakes.musicbrainz.count("/ws/2/release/") == 0
    originals = {library.albums[3].expected_release.mbid, library.albums[8].expected_release.mbid}
    assert set(linked_release(db).values()) == originals
    assert result.art == ()  # two singles are not one album: no album art fetched
    assert fakes.coverart.count() == 0


async def test_one_file_per_side_split_into_passages_is_paired_track_by_track(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    """A vinyl rip: one file, twelve passages. With fingerprints, AcoustID places every passage;
    without, a release MBID in the tags and the passage order do."""
    album = library.albums[7]
    release = album.expected_release
    for with_fingerprints in (True, False):
        file_id = f"rip-{with_fingerprints}"
        offsets = [0.0]
        for f in album.files:
            offsets.append(offsets[-1] + f.duration_s + 2.0)
        with db.write() as conn:
            conn.execute(
                "INSERT INTO files(guid, path, hash, duration, modification_time) VALUES (?, ?, 'h', ?, '2025-01-01')",
                (file_id, f"Rips/{file_id}.flac", offsets[-1]),
            )
            passages = []
            for i, f in enumerate(album.files):
                start, end = seconds_to_ticks(offsets[i]), seconds_to_ticks(offsets[i] + f.duration_s)
                conn.execute(
                    "INSERT INTO passages(guid, file_id, start_time_ticks, end_time_ticks) VALUES (?, ?, ?, ?)",
                    (f"{file_id}-{i}", file_id, start, end),
                )
                fingerprint = f.recording.fingerprint if with_fingerprints else None
                passages.append(PassageToIdentify(f"{file_id}-{i}", fingerprint, f.duration_s, start, end))
        tags = FileTags(album="Album 7", musicbrainz_release_id=None if with_fingerprints else release.mbid)
        rip = FileToIdentify(file_id, f"Rips/{file_id}.flac", "Rips", tags, tuple(passages))
        async with Identifier(ident_settings, CacheReads(db), fast_options()) as ident:
            (result,) = await identify_and_write(ident, Writer(db), group_files([rip]))
        assert result.counts()["identified"] == 12
        methods = {p.method for p in result.passages}
        assert methods == ({"acoustid"} if with_fingerprints else {"release-order"})
        for p, f, given in zip(result.passages, album.files, passages, strict=True):
            assert p.recording is not None and p.recording.mbid == f.recording.mbid
            assert (p.start_ticks, p.end_ticks) == (0, given.end_ticks - given.start_ticks)  # from the passage start
            assert p.fill_title == f.recording.title  # a split file's tags cannot title its passages


async def test_a_recording_mbid_unknown_to_musicbrainz_falls_back_to_the_fingerprint(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    spec = library.albums[3].files[2]
    bogus = "deadbeef-0000-4000-8000-000000000000"
    seeded = seed_files(db, [(spec_in("Odd", spec, musicbrainz_recording_id=bogus, album=None), False)])
    (result,) = await run(ident_settings, db, seeded)
    (passage,) = result.passages
    assert passage.status == "identified" and passage.method == "acoustid"
    assert passage.recording is not None and passage.recording.mbid == spec.recording.mbid
    assert [w.code for w in result.warnings if w.code is ErrorCode.MBID_LOOKUP_FAILED]


async def test_an_unknown_fingerprint_is_a_cached_no_match_until_it_expires(
    ident_settings: Settings, db: Database, fakes: FakeServices, library: Library
) -> None:
    stranger = replace(library.albums[3].files[0], rel_path="Unknown/x.flac", tags={"title": "x"})
    stranger = replace(stranger, recording=replace(stranger.recording, fingerprint="AQADnothing-like-it"))
    seeded = seed_files(db, [(stranger, False)])
    (result,) = await run(ident_settings, db, seeded)
    assert result.counts() == {"identified": 0, "no_match": 1, "pending": 0}
    assert [w.code for w in result.warnings] == [ErrorCode.ACOUSTID_NO_MATCH]
    with db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM acoustid_cache").fetchone()[0] == 0  # NOT NULL mbid: kept out
        assert conn.execute("SELECT results FROM wkmp_ai_acoustid_results").fetchone()[0] == "[]"
    fakes.reset()
    await run(ident_settings, db, seeded)
    assert fakes.acoustid.count() == 0
    # A no-match that expires at once is asked again by each batch that wants it: a linger no loaded
    # machine misses keeps the asks of this one file in one batch.
    await run(ident_settings, db, seeded, ttl=CacheTTL(acoustid_nomatch_s=0), batch_linger_s=0.5)
    assert fakes.acoustid.count() == 1  # an expired no-match is asked again


async def test_a_release_too_big_for_one_lookup_is_completed_by_a_browse(
    settings: Settings, db: Database, library: Library
) -> None:
    with FakeServices(library.world, rates=Rates.fast(20.0), tolerance=0.5, max_tracks_in_lookup=5) as fakes:
        changed = replace(settings, **fakes.settings_changes())
        seeded = seed_files(db, [(f, False) for f in library.albums[8].files])
        (result,) = await run(changed, db, seeded)
        assert result.counts()["identified"] == 12
        assert fakes.musicbrainz.count("/ws/2/release/") == 1 and fakes.musicbrainz.count("/ws/2/recording") == 1
        assert all(
            p.recording and p.recording.works
            for p in result.passages
            if not p.rel_path.endswith(("06 Song 8-6.flac", "12 Song 8-12.flac"))
        )
        fakes.reset()
        await run(changed, db, seeded)
        assert fakes.musicbrainz.count() == 0


async def test_a_mirror_without_bulk_lookups_is_asked_one_recording_at_a_time(settings: Settings, db: Database) -> None:
    library = build_library(4, 3, seed=5)
    with FakeServices(library.world, rates=Rates.fast(20.0), tolerance=0.5, ab_bulk=False) as fakes:
        changed = replace(settings, **fakes.settings_changes())
        seeded = seed_files(db, [(f, False) for f in library.albums[3].files])
        (result,) = await run(changed, db, seeded)
    assert result.counts()["identified"] == 3
    assert sum(p.flavor is not None for p in result.passages) == 2  # track 3 has no data
    paths = [r.path for r in fakes.acousticbrainz.requests]
    assert paths[0] == "/api/v1/high-level" and len(paths) == 4  # one refused bulk, then three single
