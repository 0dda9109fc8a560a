"""db/identify.py on a real SQLite file: idempotent upserts, song identity, caches, pending state."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from wkmp_ai.db import Database
from wkmp_ai.db.candidates import release_candidates
from wkmp_ai.db.identify import get_miss, get_search, load_pending, save_pending, write_cache, write_identification
from wkmp_ai.records.identify import (
    AlbumIdentification,
    ArtImage,
    ArtistCredit,
    CacheWrites,
    CandidateRelease,
    FileCandidates,
    FileTags,
    FileToIdentify,
    PassageIdentification,
    PassageStatus,
    PassageToIdentify,
    RecordingInfo,
    ReleaseInfo,
    WorkInfo,
)

A1 = ArtistCredit("a1000000-0000-4000-8000-000000000001", "Alice")
A2 = ArtistCredit("a2000000-0000-4000-8000-000000000002", "Bob")
W1 = WorkInfo("b1000000-0000-4000-8000-000000000001", "The Work")
REC = "c1000000-0000-4000-8000-000000000001"
REL = ReleaseInfo("d1000000-0000-4000-8000-000000000001", "The Album", "1999-09-09", 10)


def add_file(db: Database, n: int, *, metadata: str | None = None) -> FileToIdentify:
    with db.write() as conn:
        conn.execute(
            "INSERT INTO files(guid, path, hash, duration, modification_time) VALUES (?, ?, 'h', 10, '2025-01-01')",
            (f"f{n}", f"A/{n}.flac"),
        )
        conn.execute(
            "INSERT INTO passages(guid, file_id, start_time_ticks, end_time_ticks, import_metadata) "
            "VALUES (?, ?, 0, 282240000, ?)",
            (f"p{n}", f"f{n}", metadata),
        )
    return FileToIdentify(
        f"f{n}", f"A/{n}.flac", "A", FileTags(), (PassageToIdentify(f"p{n}", "AQADx", 10.0, 0, 282240000),)
    )


def result(files: list[FileToIdentify], recording: RecordingInfo, **changes: object) -> AlbumIdentification:
    passages = tuple(
        PassageIdentification(
            passage_id=f.passages[0].passage_id,
            file_id=f.file_id,
            rel_path=f.rel_path,
            status=PassageStatus.IDENTIFIED,
            start_ticks=0,
            end_ticks=282240000,
            recording=recording,
            release_mbid=REL.mbid,
            method="acoustid",
            score=0.9,
            flavor={"danceability": {"danceable": 0.25, "not_danceable": 0.75}},
            flavor_source="acousticbrainz",
        )
        for f in files
    )
    base = AlbumIdentification(
        group_key="A\n",
        files=tuple(files),
        passages=passages,
        releases=(REL,),
        art=(ArtImage(REL.mbid, "album_front", f"A/{REL.mbid}.front.jpg", 800, 800),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def counts(db: Database) -> dict[str, int]:
    names = ("songs", "artists", "works", "albums", "images", "passage_songs", "passage_albums", "song_artists")
    with db.read() as conn:
        return {n: conn.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in names}


def test_writing_a_result_twice_leaves_the_same_rows(db: Database) -> None:
    files = [add_file(db, 1), add_file(db, 2, metadata="not json")]
    res = result(files, RecordingInfo(REC, "Song", 10.0, (A1, A2), (W1,)))
    for _ in range(2):
        with db.write() as conn:
            write_identification(conn, res)
    assert counts(db) == {
        "songs": 1,
        "artists": 2,
        "works": 1,
        "albums": 1,
        "images": 1,
        "passage_songs": 2,
        "passage_albums": 2,
        "song_artists": 2,
    }
    with db.read() as conn:
        weights = [r[0] for r in conn.execute("SELECT weight FROM song_artists")]
        meta = conn.execute("SELECT import_metadata FROM passages WHERE guid = 'p2'").fetchone()[0]
        song = conn.execute("SELECT work_id IS NOT NULL FROM songs").fetchone()[0]
    assert weights == [0.5, 0.5] and song == 1
    assert json.loads(meta)["flavor"]["source"] == "acousticbrainz"  # invalid JSON replaced, not a failed write


def test_a_song_is_a_recording_with_its_artist_set(db: Database) -> None:
    files = [add_file(db, 1), add_file(db, 2), add_file(db, 3)]
    with db.write() as conn:
        write_identification(conn, result(files[:1], RecordingInfo(REC, "Song", 10.0, (A1,))))
        write_identification(conn, result(files[1:2], RecordingInfo(REC, "Song", 10.0, (A1, A2))))
        write_identification(conn, result(files[2:], RecordingInfo(REC, "Song", 10.0, (A1,))))
        songs = conn.execute("SELECT ps.passage_id, ps.song_id FROM passage_songs ps ORDER BY ps.passage_id").fetchall()
    assert songs[0][1] == songs[2][1] != songs[1][1]
    assert counts(db)["songs"] == 2


def test_a_passage_identified_again_keeps_only_its_new_links(db: Database) -> None:
    (f,) = [add_file(db, 1)]
    other = ReleaseInfo("d2000000-0000-4000-8000-000000000002", "Other", None)
    with db.write() as conn:
        write_identification(conn, result([f], RecordingInfo(REC, "Song", 10.0, (A1,))))
        second = result(
            [f], RecordingInfo("c2000000-0000-4000-8000-000000000002", "Else", 10.0, (A2,)), releases=(other,)
        )
        second = replace(second, passages=tuple(replace(p, release_mbid=other.mbid) for p in second.passages))
        write_identification(conn, second)
        links = conn.execute(
            "SELECT s.recording_mbid, a.album_mbid FROM passage_songs ps JOIN songs s ON s.guid = ps.song_id "
            "JOIN passage_albums pa ON pa.passage_id = ps.passage_id JOIN albums a ON a.guid = pa.album_id"
        ).fetchall()
    assert [tuple(r) for r in links] == [("c2000000-0000-4000-8000-000000000002", other.mbid)]


def test_cache_upserts_refresh_cached_at_and_misses_expire(db: Database) -> None:
    writes = CacheWrites(
        acoustid={"k1": json.dumps([{"id": REC, "score": 0.9, "releases": []}])},
        musicbrainz={REL.mbid: ("release", "{}")},
        acousticbrainz={REC: "{}"},
        misses={("musicbrainz", "gone"): "not found"},
    )
    with db.write() as conn:
        write_cache(conn, writes)
        conn.execute("UPDATE musicbrainz_cache SET cached_at = '2000-01-01 00:00:00'")
        conn.execute("UPDATE wkmp_ai_service_misses SET cached_at = '2000-01-01 00:00:00'")
        write_cache(conn, CacheWrites(musicbrainz={REL.mbid: ("release", '{"id": 1}')}))
        refreshed = conn.execute("SELECT cached_at, metadata FROM musicbrainz_cache").fetchone()
        assert refreshed[0] > "2020" and refreshed[1] == '{"id": 1}'
        assert tuple(conn.execute("SELECT recording_mbid, confidence FROM acoustid_cache").fetchone()) == (REC, 0.9)
        assert get_miss(conn, "musicbrainz", "gone", max_age_s=None)
        assert not get_miss(conn, "musicbrainz", "gone", max_age_s=86400)


def test_pending_requests_survive_and_lose_deleted_passages(db: Database) -> None:
    files = [add_file(db, 1), add_file(db, 2)]
    with db.write() as conn:
        for f in files:
            save_pending(conn, f, "A\n")
        conn.execute("DELETE FROM passages WHERE guid = 'p2'")
        loaded = load_pending(conn)
    assert loaded == [("A\n", files[0])]


@pytest.mark.parametrize("status", [PassageStatus.NO_MATCH, PassageStatus.PENDING])
def test_unidentified_passages_get_no_links(db: Database, status: PassageStatus) -> None:
    f = add_file(db, 1)
    res = result([f], RecordingInfo(REC, "Song", 10.0, (A1,)))
    res = replace(res, passages=tuple(replace(p, status=status, recording=None, flavor=None) for p in res.passages))
    with db.write() as conn:
        write_identification(conn, res)
        state = conn.execute("SELECT status FROM wkmp_ai_identify_files").fetchone()[0]
    assert counts(db)["passage_songs"] == 0 and counts(db)["albums"] == 0 and counts(db)["images"] == 0
    assert state == ("no_match" if status is PassageStatus.NO_MATCH else "pending")


def test_search_answers_are_cached_and_a_search_that_found_nothing_expires(db: Database) -> None:
    found, empty = 'release:10:release:"A"', 'release:10:release:"Nothing"'
    with db.write() as conn:
        write_cache(conn, CacheWrites(search={found: '[{"id":"x"}]', empty: "[]"}))
    with db.read() as conn:
        assert get_search(conn, found, max_age_s=None, empty_max_age_s=None) == '[{"id":"x"}]'
        assert get_search(conn, empty, max_age_s=None, empty_max_age_s=3600) == "[]"
        assert get_search(conn, empty, max_age_s=None, empty_max_age_s=0) is None  # too old: ask again
        assert get_search(conn, found, max_age_s=0, empty_max_age_s=None) is None
        assert get_search(conn, "release:10:other", max_age_s=None, empty_max_age_s=None) is None


def test_release_candidates_are_replaced_per_file_and_go_with_the_file(db: Database) -> None:
    f1, f2 = add_file(db, 1), add_file(db, 2)
    offered = (
        CandidateRelease(REL.mbid, "The Album", "Alice", "1999-09-09", 10, 0.97, True, chosen=True, kind="Album"),
        CandidateRelease("d2000000-0000-4000-8000-000000000002", "Hits", "Alice", None, 20, 1.4, False),
    )
    base = result([f1, f2], RecordingInfo(REC, "Song", 10.0, (A1,)))
    first = replace(base, candidates=(FileCandidates("f1", "tag_search", offered), FileCandidates("f2", "x", ())))
    with db.write() as conn:
        write_identification(conn, first)
        write_identification(conn, first)  # idempotent
    with db.read() as conn:
        rows = release_candidates(conn, "f1")
        assert release_candidates(conn, "f2") == []
    assert [(r["rank"], r["release_mbid"], r["chosen"], r["checked"]) for r in rows] == [
        (1, REL.mbid, True, True),
        (2, "d2000000-0000-4000-8000-000000000002", False, False),
    ]
    assert rows[0] | {"rank": 0} == {
        "rank": 0,
        "release_mbid": REL.mbid,
        "recording_mbid": None,
        "title": "The Album",
        "artist": "Alice",
        "release_date": "1999-09-09",
        "track_count": 10,
        "country": None,
        "kind": "Album",
        "score": 0.97,
        "checked": True,
        "chosen": True,
        "method": "tag_search",
    }
    assert rows[1]["score"] == 1.0  # an upper bound above 1 is kept within the column's range
    again = replace(base, candidates=(FileCandidates("f1", "name_search", offered[1:]),))
    with db.write() as conn:
        write_identification(conn, again)
        assert [r["release_mbid"] for r in release_candidates(conn, "f1")] == ["d2000000-0000-4000-8000-000000000002"]
        conn.execute("DELETE FROM files WHERE guid = 'f1'")
        assert conn.execute("SELECT COUNT(*) FROM wkmp_ai_release_candidates").fetchone()[0] == 0
