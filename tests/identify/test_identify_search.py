"""Identification without AcoustID: a MusicBrainz search by tags and names, against the fakes.

The library of tests/fakes/tagging.py is tagged the way real folders are (capitals, remaster
notes, typos, featured artists, a partial folder, no track numbers, untagged files named three
ways) and the catalogue holds, for every album, a re-release, a deluxe edition, a shared
compilation and a "Greatest Hits" by the same artist that starts with the album's own tracks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.fakes import FakeServices, FaultKind, Library, Rates
from tests.fakes.seed import Seeded, linked, seed_files, seed_library
from tests.fakes.tagging import UNTAGGED, build_search_library
from tests.fakes.world import FileSpec, mbid
from tests.identify.conftest import fast_options
from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.db.candidates import release_candidates
from wkmp_ai.errors import ErrorCode
from wkmp_ai.identify import Identifier
from wkmp_ai.identify.tagdistance import ACCEPT, ACCEPT_NAMES
from wkmp_ai.ingest.identify import identify_and_write, identify_pending
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.identify import AlbumIdentification, FileTags, FileToIdentify, PassageToIdentify, group_files
from wkmp_ai.ticks import seconds_to_ticks


@pytest.fixture(scope="module")
def search_library() -> Library:
    return build_search_library()


@pytest.fixture
def services(search_library: Library) -> Iterator[FakeServices]:
    with FakeServices(search_library.world, rates=Rates.fast(20.0), tolerance=0.5) as fakes:
        yield fakes


@pytest.fixture
def no_key(settings: Settings, services: FakeServices) -> Settings:
    return replace(settings, **{**services.settings_changes(), "acoustid_api_key": None})


async def run(settings: Settings, db: Database, seeded: Seeded, **options: object) -> list[AlbumIdentification]:
    async with Identifier(settings, CacheReads(db), fast_options(**options)) as ident:
        return await identify_and_write(ident, Writer(db), group_files(seeded.files))


def searches(fakes: FakeServices, entity: str = "release") -> list[str]:
    return [r.query["query"] for r in fakes.musicbrainz.requests if r.path == f"/ws/2/{entity}" and "query" in r.query]


async def test_without_a_key_the_library_is_identified_by_search_within_the_request_budget(
    no_key: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    seeded = seed_library(db, search_library)
    results = await run(no_key, db, seeded)

    # Done-when: every tagged file on the right recording of the right release (≥ 90 % asked),
    # none on the "Greatest Hits" decoy or the compilation; the untagged ones too.
    got = linked(db)
    decoys = {mbid("decoy", a) for a in range(10)} | {mbid("compilation")}
    tagged = right_tagged = right_untagged = 0
    for a, album in enumerate(search_library.albums):
        for f in album.files:
            ok = got.get(f.rel_path) == (f.recording.mbid, album.expected_release.mbid)
            if a in UNTAGGED:
                right_untagged += ok
            else:
                tagged += 1
                right_tagged += ok
    assert tagged == 81 and right_tagged == 81
    assert right_untagged == 36
    assert not {release for _, release in got.values()} & decoys

    methods = Counter(p.method for r in results for p in r.passages)
    assert methods == {"tags": 24, "tag_search": 57, "name_search": 36}
    scores = {p.rel_path: p.score or 0.0 for r in results for p in r.passages if p.method.endswith("_search")}
    assert min(scores.values()) == scores["Artist 4/Album 4/05 Song 4-5.flac"] >= 0.8  # its title: "Snog 4-5"
    assert sorted(scores.values())[1] >= ACCEPT and max(scores.values()) <= 1.0
    warned = Counter(w.code for r in results for w in r.warnings)
    assert warned[ErrorCode.IDENTIFIED_BY_TAGS] == 8 and warned[ErrorCode.ACOUSTID_NO_API_KEY] == 1

    # Budget: one search and one release lookup per searched album; nothing refused.
    assert len(searches(services)) == 8 and searches(services, "recording") == []
    assert services.musicbrainz.count("/ws/2/release/") == 10  # one lookup per album
    assert services.musicbrainz.count() == 19 and services.musicbrainz.count() / 117 <= 0.25
    assert services.throttled()["musicbrainz"] == 0 and services.acoustid.count() == 0
    queries = searches(services)
    assert 'release:"Album 3" AND artist:"ARTIST 3" tracks:12 date:2008' in queries  # note dropped, year kept
    assert 'release:"Album 8" AND artist:"Artist 8" AND tracks:12 date:1998' in queries  # tagged total: required
    assert 'release:"Album 9" AND artist:"Artist 9" tracks:12' in queries  # from the file names

    # What each file searched for is kept: the chosen release first, then the others considered.
    file_id = next(f.file_id for f in seeded.files if f.rel_path.startswith("Artist 5/"))
    with db.read() as conn:
        offered = release_candidates(conn, file_id)
        passage = conn.execute(
            "SELECT method, score, status FROM wkmp_ai_identify_passages WHERE file_id = ?", (file_id,)
        ).fetchone()
    assert offered[0]["chosen"] and offered[0]["release_mbid"] == mbid("original", 5) and offered[0]["checked"]
    assert [c["rank"] for c in offered] == list(range(1, len(offered) + 1)) and sum(c["chosen"] for c in offered) == 1
    assert {c["release_mbid"] for c in offered} >= {mbid("reissue", 5), mbid("deluxe", 5)}
    assert passage["method"] == "tag_search" and passage["status"] == "identified" and passage["score"] >= ACCEPT

    # A re-import asks nothing: searches and releases come from the cache.
    services.reset()
    again = await run(no_key, db, seeded)
    assert services.counts() == {"acoustid": 0, "musicbrainz": 0, "acousticbrainz": 0, "coverart": 0}
    assert [r.passages for r in again] == [r.passages for r in results]


async def test_with_a_key_fingerprints_come_first_and_search_takes_what_acoustid_cannot_place(
    settings: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    album = search_library.albums[4]
    strangers = [
        replace(f, recording=replace(f.recording, fingerprint=f"AQADunknown{i}")) for i, f in enumerate(album.files)
    ]
    seeded = seed_files(db, [(f, False) for f in strangers[:6] + album.files[6:]])
    keyed = replace(settings, **services.settings_changes())
    (result,) = await run(keyed, db, seeded)
    methods = Counter(p.method for p in result.passages)
    # AcoustID places its six; the other six it does not know are paired by their tags with the
    # release AcoustID already chose: no search is needed.
    assert methods == {"acoustid": 6, "release-tags": 6} and searches(services) == []

    # A folder AcoustID knows nothing of: the search does it, and says so.
    db_files = seed_files(
        db, [(replace(f, rel_path=f.rel_path.replace("Artist 4", "Other")), False) for f in strangers]
    )
    services.reset()
    (result,) = await run(keyed, db, db_files)
    assert Counter(p.method for p in result.passages) == {"tag_search": 12}
    assert {p.release_mbid for p in result.passages} == {album.expected_release.mbid}
    (told,) = [w for w in result.warnings if w.code is ErrorCode.IDENTIFIED_BY_TAGS]
    assert "no fingerprint match" in told.message and "12 of 12 files" in told.message
    assert services.acoustid.count() == 1 and len(searches(services)) == 1


async def test_acoustid_down_does_not_stop_a_tagged_album(
    settings: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    services.acoustid.inject(FaultKind.STATUS, status=500, times=1000)
    seeded = seed_files(db, [(f, False) for f in search_library.albums[8].files])
    (result,) = await run(replace(settings, **services.settings_changes()), db, seeded)
    assert result.counts()["identified"] == 12 and {p.method for p in result.passages} == {"tag_search"}
    codes = {w.code for w in result.warnings}
    assert ErrorCode.IDENTIFIED_BY_TAGS in codes and codes & {
        ErrorCode.ACOUSTID_NETWORK_ERROR,
        ErrorCode.SERVICE_UNAVAILABLE,
    }


async def test_a_folder_that_fits_no_release_keeps_its_candidates_and_waits_for_a_fingerprint(
    no_key: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    """Tags say Album 3, the audio is Album 4's: the search finds Album 3 and its editions, the
    durations do not fit, nothing is chosen, the candidates are kept for the user."""
    wrong = [replace(f, rel_path=f"Mislabelled/{t:02d}.flac", tags={**f.tags, "album": "Album 3", "artist": "Artist 3"})
             for t, f in enumerate(search_library.albums[4].files, 1)]  # fmt: skip
    seeded = seed_files(db, [(f, False) for f in wrong])
    (result,) = await run(no_key, db, seeded)
    assert result.counts() == {"identified": 0, "no_match": 0, "pending": 12}  # a fingerprint may still tell
    (low,) = [w for w in result.warnings if w.code is ErrorCode.IDENTIFY_LOW_CONFIDENCE]
    assert low.path == "Mislabelled" and "candidates kept" in low.message
    assert services.musicbrainz.count("/ws/2/release/") <= 2  # at most two releases fetched to compare
    with db.read() as conn:
        offered = release_candidates(conn, seeded.files[0].file_id)
        detail = conn.execute(
            "SELECT detail FROM wkmp_ai_identify_passages WHERE file_id = ?", (seeded.files[0].file_id,)
        ).fetchone()[0]
        pending = conn.execute("SELECT COUNT(*) FROM wkmp_ai_identify_files WHERE status = 'pending'").fetchone()[0]
    assert pending == 12 and "no AcoustID API key" in detail and "MusicBrainz search" in detail
    assert 3 <= len(offered) <= 5 and not any(c["chosen"] for c in offered)
    assert all(c["score"] < ACCEPT for c in offered if c["checked"])  # unchecked: an upper bound only
    assert sum(c["checked"] for c in offered) >= 1
    assert {"Album 3", "Album 3: The Greatest Hits"} <= {c["title"] for c in offered}
    assert offered == sorted(offered, key=lambda c: -c["score"])
    first = offered[0]
    assert first["artist"] == "Artist 3" and first["track_count"] in (12, 15) and first["release_date"]

    # With a key, AcoustID is asked too, knows the recordings, and the files are Album 4 after all.
    services.reset()
    keyed = replace(no_key, acoustid_api_key=services.api_key)
    report = await identify_pending(db, keyed, options=fast_options())
    assert report.passages["identified"] == 12
    assert set(linked(db).values()) == {(f.recording.mbid, mbid("original", 4)) for f in wrong}


async def test_below_the_bar_with_every_service_asked_is_no_match(
    settings: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    wrong = [replace(f, rel_path=f"Odd/{t:02d}.flac", tags={**f.tags, "album": "Album 3", "artist": "Artist 3"},
                     recording=replace(f.recording, fingerprint=f"AQADnothing{t}"))
             for t, f in enumerate(search_library.albums[4].files, 1)]  # fmt: skip
    seeded = seed_files(db, [(f, False) for f in wrong])
    (result,) = await run(replace(settings, **services.settings_changes()), db, seeded)
    assert result.counts() == {"identified": 0, "no_match": 12, "pending": 0}
    codes = Counter(w.code for w in result.warnings)
    assert codes == {ErrorCode.IDENTIFY_LOW_CONFIDENCE: 1}  # one for the folder, not twelve


async def test_singles_are_found_by_a_recording_search_on_their_album_not_a_compilation(
    no_key: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    lib = search_library
    one = replace(lib.albums[3].files[4], rel_path="Singles/a.flac")  # title, ARTIST 3, album tag
    two = replace(lib.albums[6].files[1], rel_path="Singles/b.flac")  # title and artist, no album tag
    two = replace(two, tags={k: v for k, v in two.tags.items() if k != "album"})
    named = replace(lib.albums[9].files[2], rel_path="Downloads/Artist 9 - Album 9 - 03 - Song 9-3.flac")
    seeded = seed_files(db, [(one, False), (two, False), (named, False)])
    results = await run(no_key, db, seeded)
    got = linked(db)
    assert got["Singles/a.flac"] == (one.recording.mbid, mbid("reissue", 3))  # its tags name the remaster
    # Track 2 of Album 6 is also on the artist's Greatest Hits and on a compilation: the album wins.
    assert got["Singles/b.flac"] == (two.recording.mbid, mbid("original", 6))
    assert got[named.rel_path] == (named.recording.mbid, mbid("original", 9))
    methods = {p.rel_path: p.method for r in results for p in r.passages}
    assert methods == {"Singles/a.flac": "tag_search", "Singles/b.flac": "tag_search", named.rel_path: "name_search"}
    queries = searches(services, "recording")
    assert len(queries) == 3 and searches(services) == []
    window = next(q for q in queries if "Song 6\\-2" in q)  # "-" is Lucene syntax: escaped
    assert window.startswith('recording:"Song 6\\-2" AND artist:"Artist 6" AND dur:[')  # "feat. Guest 6" left out
    assert services.musicbrainz.count("/ws/2/recording/") == 3  # each chosen recording's works
    with db.read() as conn:
        offered = release_candidates(conn, seeded.files[1].file_id)
    assert offered[0]["chosen"] and offered[0]["recording_mbid"] == two.recording.mbid
    assert {c["kind"] for c in offered} >= {"Album", "Album + Compilation"}


async def test_names_are_never_trusted_alone(
    no_key: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    """Untagged files named like Album 3's tracks whose audio is Album 4's: the names find Album 3,
    the durations refuse it."""
    lib = search_library
    liars = [
        replace(g, rel_path=f"Artist 3/Album 3/{t:02d} - {f.recording.title}.flac", tags={})
        for t, (f, g) in enumerate(zip(lib.albums[3].files, lib.albums[4].files, strict=True), 1)
    ]
    seeded = seed_files(db, [(f, False) for f in liars])
    (result,) = await run(no_key, db, seeded)
    assert result.counts()["identified"] == 0 and len(searches(services)) == 1
    assert [w.code for w in result.warnings if w.path == "Artist 3/Album 3"] == [ErrorCode.IDENTIFY_LOW_CONFIDENCE]


async def test_a_folder_that_is_the_greatest_hits_gets_the_greatest_hits(
    no_key: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    lib = search_library
    decoy = lib.world.releases[mbid("decoy", 5)]
    specs = []
    for track in decoy.media[0].tracks:
        rec = track.recording
        tags = {"title": rec.title, "artist": "Artist 5", "album": decoy.title, "track_number": track.position}
        specs.append((FileSpec(f"Hits/{track.position:02d}.flac", tags, rec, rec.length_ms / 1000 + 0.2), False))
    (result,) = await run(no_key, db, seed_files(db, specs))
    assert result.counts()["identified"] == 12 and {p.release_mbid for p in result.passages} == {decoy.mbid}
    assert all(p.score is not None and p.score >= ACCEPT for p in result.passages)


async def test_a_side_of_vinyl_in_one_file_is_split_by_its_album_tag_and_durations(
    no_key: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    album = search_library.albums[6]
    offsets = [0.0]
    for f in album.files:
        offsets.append(offsets[-1] + f.duration_s + 2.0)
    passages = []
    with db.write() as conn:
        conn.execute(
            "INSERT INTO files(guid, path, hash, duration, modification_time) VALUES ('rip', 'Rips/side.flac', 'h', ?, "
            "'2025-01-01')",
            (offsets[-1],),
        )
        for i, f in enumerate(album.files):
            start, end = seconds_to_ticks(offsets[i]), seconds_to_ticks(offsets[i] + f.duration_s)
            conn.execute(
                "INSERT INTO passages(guid, file_id, start_time_ticks, end_time_ticks) VALUES (?, 'rip', ?, ?)",
                (f"rip-{i}", start, end),
            )
            passages.append(PassageToIdentify(f"rip-{i}", f.recording.fingerprint, f.duration_s, start, end))
    tags = FileTags(album="Album 6", artist="Artist 6")
    rip = FileToIdentify("rip", "Rips/side.flac", "Rips", tags, tuple(passages))
    async with Identifier(no_key, CacheReads(db), fast_options()) as ident:
        (result,) = await identify_and_write(ident, Writer(db), group_files([rip]))
    assert result.counts()["identified"] == 12
    assert [p.recording.mbid for p in result.passages if p.recording] == [f.recording.mbid for f in album.files]
    assert {p.method for p in result.passages} == {"tag_search"} and min(
        p.score or 0 for p in result.passages
    ) >= ACCEPT_NAMES


async def test_musicbrainz_failing_during_a_search_leaves_the_album_pending_then_a_later_run_finds_it(
    no_key: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    services.musicbrainz.inject(FaultKind.STATUS, status=503, times=1000, match="/ws/2/release")
    seeded = seed_files(db, [(f, False) for f in search_library.albums[6].files])
    (result,) = await run(no_key, db, seeded)
    assert result.counts() == {"identified": 0, "no_match": 0, "pending": 12}
    codes = {w.code for w in result.warnings}
    assert codes & {ErrorCode.MUSICBRAINZ_RATE_LIMIT, ErrorCode.SERVICE_UNAVAILABLE}
    assert ErrorCode.IDENTIFY_LOW_CONFIDENCE not in codes and ErrorCode.MUSICBRAINZ_SEARCH_NO_MATCH not in codes
    services.musicbrainz.reset()
    report = await identify_pending(db, no_key, options=fast_options())
    assert report.passages["identified"] == 12


async def test_files_acoustid_cannot_place_wait_when_the_search_that_would_place_them_fails(
    settings: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    """AcoustID knows none of the fingerprints, and MusicBrainz fails the search by tags that would
    have placed them: the files were not looked for, so they wait for a later run ("no match" would
    keep them from being asked again), and one warning says so for the album."""
    album = search_library.albums[4]
    strangers = [
        replace(f, recording=replace(f.recording, fingerprint=f"AQADunknown{i}")) for i, f in enumerate(album.files)
    ]
    services.musicbrainz.inject(FaultKind.STATUS, status=500, times=1000, match="/ws/2/release")
    seeded = seed_files(db, [(f, False) for f in strangers])
    (result,) = await run(replace(settings, **services.settings_changes()), db, seeded)
    assert result.counts() == {"identified": 0, "no_match": 0, "pending": 12}
    (down,) = [w for w in result.warnings if w.code is ErrorCode.MUSICBRAINZ_NETWORK_ERROR]
    assert down.path == seeded.files[0].folder and "12 files of this album wait" in down.message
    assert not [w for w in result.warnings if w.code is ErrorCode.ACOUSTID_NO_MATCH]
    services.musicbrainz.reset()
    report = await identify_pending(db, replace(settings, **services.settings_changes()), options=fast_options())
    assert report.passages["identified"] == 12  # the later run searches, and places them


async def test_singles_acoustid_cannot_place_all_wait_when_the_first_search_fails(
    settings: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    """A folder of singles is searched file by file; when MusicBrainz fails the first search, the
    others are never searched: they wait too, not "no match"."""
    lib = search_library
    picks = [(3, 4), (6, 1), (8, 2)]
    singles = [  # no album tags: one group, searched file by file
        replace(f, rel_path=f"Singles/{i}.flac", tags={k: v for k, v in f.tags.items() if k != "album"},
                recording=replace(f.recording, fingerprint=f"AQADunknown{i}"))
        for i, f in enumerate(lib.albums[a].files[t] for a, t in picks)
    ]  # fmt: skip
    services.musicbrainz.inject(FaultKind.STATUS, status=500, times=1000, match="/ws/2/recording")
    seeded = seed_files(db, [(f, False) for f in singles])
    (result,) = await run(replace(settings, **services.settings_changes()), db, seeded)
    assert result.counts() == {"identified": 0, "no_match": 0, "pending": 3}
    (down,) = [w for w in result.warnings if w.code is ErrorCode.MUSICBRAINZ_NETWORK_ERROR]
    assert down.path == "Singles" and "3 files of this album wait" in down.message


async def test_titles_full_of_lucene_syntax_are_searched_for_as_plain_text(
    no_key: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    odd = 'AC/DC: "Live" [1992] && || ! (x) {y} ~ ^ * ? \\ -z +w'
    files = [
        replace(f, rel_path=f"Odd/{t}.flac", tags={**f.tags, "album": odd})
        for t, f in enumerate(search_library.albums[3].files)
    ]
    (result,) = await run(no_key, db, seed_files(db, [(f, False) for f in files]))
    exact, loose = searches(services)  # the phrase, then its words: neither is refused
    assert loose.startswith("release:(ac\\/dc\\:")
    assert exact.startswith(
        'release:"AC\\/DC\\: \\"Live\\" \\[1992\\] \\&\\& \\|\\| \\! \\(x\\) \\{y\\} \\~ \\^ \\* \\? \\\\'
    )
    assert all(r.path == "/ws/2/release" for r in services.musicbrainz.requests)  # answered (no 400): nothing
    assert [w.code for w in result.warnings if w.path == "Odd"] == [ErrorCode.MUSICBRAINZ_SEARCH_NO_MATCH]


async def test_typos_in_album_and_artist_are_found_by_their_words(
    no_key: Settings, db: Database, services: FakeServices, search_library: Library
) -> None:
    files = [
        replace(f, rel_path=f"Typos/{t:02d}.flac", tags={**f.tags, "album": "Albm 4", "artist": "Artst 4"})
        for t, f in enumerate(search_library.albums[4].files, 1)
    ]
    (result,) = await run(no_key, db, seed_files(db, [(f, False) for f in files]))
    assert searches(services) == [
        'release:"Albm 4" AND artist:"Artst 4" tracks:12',
        "release:(albm 4) AND artist:(artst 4)",
    ]
    assert result.counts()["identified"] == 12
    assert {p.release_mbid for p in result.passages} == {mbid("original", 4)}
    assert services.musicbrainz.count() == 3
