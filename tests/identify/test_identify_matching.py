"""Release choice and passage↔track pairing (pure functions, known answers)."""

from __future__ import annotations

from wkmp_ai.identify.evidence import AcoustIDCandidate, ReleaseDoc, ReleaseEvidence, TrackDoc
from wkmp_ai.identify.matching import PassageWork, duration_fits, map_to_release, score_releases
from wkmp_ai.records.identify import (
    AlbumGroup,
    FileTags,
    FileToIdentify,
    PassageToIdentify,
    RecordingInfo,
    group_files,
)


def rec_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def release(name: str, count: int, date: str, title: str = "Album") -> dict[str, object]:
    return {"release_mbid": name, "track_count": count, "date": date, "title": title, "medium_count": 1}


ORIGINAL = release("original", 12, "1990-01-01")
REISSUE = release("reissue", 12, "2005-01-01")
DELUXE = release("deluxe", 15, "2010-01-01")
COMPILATION = release("compilation", 20, "2015-01-01", "Greatest Hits")


def work(n: int, *, tags: FileTags | None = None, on: list[dict[str, object]], fingerprint: bool = True) -> PassageWork:
    f = FileToIdentify(
        file_id=f"f{n}",
        rel_path=f"A/{n:02d}.flac",
        folder="A",
        tags=tags or FileTags(),
        passages=(PassageToIdentify(f"p{n}", "AQADx" if fingerprint else None, 200.0, 0, 1),),
    )
    votes = [
        ReleaseEvidence(recording_mbid=rec_id(n), score=0.9, medium_position=1, track_position=n, **r)  # type: ignore[arg-type]
        for r in on
    ]
    cand = AcoustIDCandidate(recording_mbid=rec_id(n), score=0.9, releases=tuple(votes))
    return PassageWork(file=f, passage=f.passages[0], index=0, acoustid=(cand,), evidence=list(votes))


def group_of(works: list[PassageWork]) -> AlbumGroup:
    return group_files([w.file for w in works])[0]


def test_the_release_with_the_right_track_count_and_earliest_date_wins() -> None:
    works = [work(n, on=[ORIGINAL, REISSUE, DELUXE] + ([COMPILATION] if n <= 2 else [])) for n in range(1, 13)]
    ranked = score_releases(works, group_of(works))
    assert [c.release_mbid for c in ranked][:3] == ["original", "reissue", "deluxe"]
    assert ranked[0].score == ranked[1].score  # a tie, broken by date
    assert len(ranked[0].covered) == 12 and len(ranked[-1].covered) == 2


def test_a_folder_of_fifteen_is_the_deluxe_edition() -> None:
    works = [work(n, on=[ORIGINAL, REISSUE, DELUXE]) for n in range(1, 13)]
    works += [work(n, on=[DELUXE]) for n in range(13, 16)]
    assert score_releases(works, group_of(works))[0].release_mbid == "deluxe"


def test_the_release_named_in_the_tags_wins() -> None:
    tags = FileTags(musicbrainz_release_id="reissue")
    works = [work(n, tags=tags, on=[ORIGINAL, REISSUE, DELUXE]) for n in range(1, 13)]
    assert score_releases(works, group_of(works), tag_releases=["reissue"])[0].release_mbid == "reissue"


def test_track_total_tags_and_album_title_steer_the_choice() -> None:
    # Only 5 of the album's files are present, but their tags say the album has 15 tracks.
    tags = FileTags(album="Album", track_total=15)
    works = [work(n, tags=tags, on=[ORIGINAL, DELUXE]) for n in range(1, 6)]
    assert score_releases(works, group_of(works))[0].release_mbid == "deluxe"
    # An album tag naming the compilation beats equal votes for the album.
    tags = FileTags(album="Greatest Hits")
    works = [work(n, tags=tags, on=[ORIGINAL, COMPILATION]) for n in (1, 2)]
    assert score_releases(works, group_of(works))[0].release_mbid == "compilation"


def test_excluded_releases_are_not_proposed_again() -> None:
    works = [work(n, on=[ORIGINAL, REISSUE]) for n in range(1, 4)]
    for w in works:
        w.excluded.add("original")
    assert [c.release_mbid for c in score_releases(works, group_of(works))] == ["reissue"]


def track(n: int, length: float, title: str | None = None, medium: int = 1) -> TrackDoc:
    rec = RecordingInfo(mbid=rec_id(n), title=title or f"Song {n}", length_s=length, artists=())
    return TrackDoc(medium, n, str(n), title or f"Song {n}", length, rec)


def doc(tracks: list[TrackDoc]) -> ReleaseDoc:
    return ReleaseDoc("original", "Album", "1990", "Official", None, "Artist", len(tracks), 1, tuple(tracks))


def test_pairing_by_recording_then_tags_then_title() -> None:
    tracks = [track(n, 200.0) for n in range(1, 6)]
    by_acoustid = work(1, on=[ORIGINAL])
    by_tag_mbid = work(99, on=[], fingerprint=False)
    by_tag_mbid.acoustid, by_tag_mbid.tag_recording = None, rec_id(2)
    by_position = work(98, tags=FileTags(track_number=3), on=[], fingerprint=False)
    by_position.acoustid = None
    by_title = work(97, tags=FileTags(title="song 4!"), on=[], fingerprint=False)
    by_title.acoustid = None
    wrong_length = work(96, tags=FileTags(track_number=5), on=[], fingerprint=False)
    wrong_length.acoustid = None
    wrong_length.passage = PassageToIdentify("p96", None, 120.0, 0, 1)
    contradicted = work(95, tags=FileTags(track_number=5), on=[])  # AcoustID names another recording
    pairs = map_to_release([by_acoustid, by_tag_mbid, by_position, by_title, wrong_length, contradicted], doc(tracks))
    found = {w.passage.passage_id: (t.position, method) for w, t, method in pairs}
    assert found == {
        "p1": (1, "acoustid"),
        "p99": (2, "tags"),
        "p98": (3, "release-tags"),
        "p97": (4, "release-title"),
    }


def test_a_file_split_into_as_many_passages_as_tracks_pairs_in_order() -> None:
    lengths = [180.0, 240.0, 200.0]
    tracks = [track(n, length) for n, length in enumerate(lengths, 1)]
    passages = tuple(PassageToIdentify(f"p{i}", None, lengths[i] + 1.5, 0, 1) for i in range(3))
    f = FileToIdentify("f", "A/side.flac", "A", FileTags(album="Album"), passages)
    works = [PassageWork(file=f, passage=p, index=i) for i, p in enumerate(passages)]
    pairs = map_to_release(list(reversed(works)), doc(tracks))
    assert sorted((w.index, t.position, m) for w, t, m in pairs) == [
        (0, 1, "release-order"),
        (1, 2, "release-order"),
        (2, 3, "release-order"),
    ]
    # Durations that do not fit: no guessing.
    bad = tuple(PassageToIdentify(f"q{i}", None, 100.0, 0, 1) for i in range(3))
    g = FileToIdentify("g", "A/other.flac", "A", FileTags(), bad)
    assert map_to_release([PassageWork(file=g, passage=p, index=i) for i, p in enumerate(bad)], doc(tracks)) == []


def test_duration_tolerance() -> None:
    assert duration_fits(100.0, 106.9) and not duration_fits(100.0, 107.5)  # ±7 s
    assert duration_fits(600.0, 629.0)  # 5 % of a long track
    assert duration_fits(None, 100.0) and duration_fits(100.0, None)
