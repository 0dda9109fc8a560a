"""Tag distance and the confidence bar, with known answers (pure functions, no network).

The bar (ACCEPT = 0.85, ACCEPT_NAMES = 0.90 where names carry the evidence) is justified here:
over the situations a real library brings, every right release scores well above it and every
wrong one — another album, the same artist's "Greatest Hits", a compilation, an album whose
durations do not fit — well below, with a margin on both sides.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.fakes import FakeMusicBrainz, Library
from tests.fakes.seed import _tags
from tests.fakes.tagging import build_search_library
from tests.fakes.world import FileSpec, mbid
from wkmp_ai.identify.evidence import ReleaseDoc
from wkmp_ai.identify.matching import PassageWork
from wkmp_ai.identify.mbsearch import escape_lucene, parse_release_search, phrase
from wkmp_ai.identify.musicbrainz import RELEASE_INC, parse_release
from wkmp_ai.identify.tagdistance import ACCEPT, ACCEPT_NAMES, release_distance, search_bound
from wkmp_ai.identify.tagquery import AlbumQuery, describe_group, recording_query, release_query
from wkmp_ai.identify.textdist import levenshtein, string_distance
from wkmp_ai.records.identify import FileToIdentify, PassageToIdentify


@pytest.fixture(scope="module")
def lib() -> Library:
    return build_search_library()


def doc(lib: Library, key: str) -> ReleaseDoc:
    return parse_release(FakeMusicBrainz(lib.world).release_json(lib.world.releases[key], set(RELEASE_INC.split("+"))))


def query(specs: list[FileSpec]) -> AlbumQuery:
    works = []
    for i, s in enumerate(specs):
        folder = s.rel_path.rpartition("/")[0]
        f = FileToIdentify(
            f"f{i}", s.rel_path, folder, _tags(s), (PassageToIdentify(f"p{i}", None, s.duration_s, 0, 1),)
        )
        works.append(PassageWork(file=f, passage=f.passages[0], index=0))
    return describe_group(works, next((s.tags.get("album") for s in specs if s.tags.get("album")), None))


def confidence(lib: Library, specs: list[FileSpec], release: str) -> float:
    return release_distance(query(specs), doc(lib, release)).confidence


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Café del Mar", "CAFE DEL MAR", 0.0),
        ("Rock & Roll", "rock and roll", 0.0),
        ("Beatles, The", "The Beatles", 0.0),
        ("Song (feat. Someone)", "Song", 0.0),
        ("Song ft. Someone", "Song", 0.0),
        ("Hello-World!", "hello world", 0.0),
        ("The Beatles", "Beatles", 0.1 * 3 / 10),  # a leading "The" counts a tenth
        ("Album 3 (Remastered)", "Album 3", 0.3 * 10 / 16),  # a bracketed note counts a third
        ("Album 3", "Album 4", 1 / 6),
        ("abc", "xyz", 1.0),
        (None, None, 0.0),
        ("x", None, 1.0),
    ],
)
def test_string_distance_known_answers(a: str | None, b: str | None, expected: float) -> None:
    assert string_distance(a, b) == pytest.approx(expected, abs=1e-9)


def test_levenshtein() -> None:
    assert levenshtein("kitten", "sitting") == 3 and levenshtein("", "abc") == 3 and levenshtein("abc", "abc") == 0


def test_lucene_values_are_quoted_and_escaped() -> None:
    assert escape_lucene('a+b-c&&d||e!f(g)h{i}j[k]l^m"n~o*p?q:r\\s/t') == (
        'a\\+b\\-c\\&\\&d\\|\\|e\\!f\\(g\\)h\\{i\\}j\\[k\\]l\\^m\\"n\\~o\\*p\\?q\\:r\\\\s\\/t'
    )
    assert phrase("Album (Remastered) [Deluxe]") == '"Album"'  # notes MusicBrainz spells its own way
    assert phrase("Song feat. X") == '"Song"'
    assert phrase("(Untitled)") == '"\\(Untitled\\)"'  # a title that is only a note keeps it
    assert phrase(" ?! ") is None


def test_queries_say_what_the_tags_say(lib: Library) -> None:
    q = query(lib.albums[8].files)  # album artist, track total, date
    assert release_query(q) == 'release:"Album 8" AND artist:"Artist 8" AND tracks:12 date:1998'
    partial = query(lib.albums[5].files)  # 9 of 12 files, no total: the count only ranks
    assert release_query(partial) == 'release:"Album 5" AND artist:"Artist 5" tracks:9'
    various = replace(q, artist=None, various=True, year=None)
    assert release_query(various) == 'release:"Album 8" AND artist:"Various Artists" AND tracks:12'
    item = q.items[0]
    margin = max(7.0, 0.05 * item.duration_s)  # the tolerance duration_fits allows
    low, high = int((item.duration_s - margin) * 1000), int((item.duration_s + margin) * 1000) + 1
    text = recording_query(item, "Artist 8", "Album 8")
    assert text is not None and text.startswith('recording:"Song 8\\-1" AND artist:"Artist 8" AND dur:[')
    assert text.endswith(' release:"Album 8"')
    window = text.split("dur:[")[1].split("]")[0].split(" TO ")
    assert abs(int(window[0]) - low) <= 1 and abs(int(window[1]) - high) <= 1
    assert recording_query(replace(item, title=None), "Artist 8", None) is None


def test_the_confidence_bar_separates_right_from_wrong_with_a_margin(lib: Library) -> None:
    albums = lib.albums
    right = {
        "exact tags": confidence(lib, albums[8].files, mbid("original", 8)),
        "capitals, remaster note, its year": confidence(lib, albums[3].files, mbid("reissue", 3)),
        "accent, typo, featured artist": confidence(lib, albums[4].files, mbid("original", 4)),
        "9 of 12 files": confidence(lib, albums[5].files, mbid("original", 5)),
        "no track numbers": confidence(lib, albums[6].files, mbid("original", 6)),
        "12 files, the 15-track deluxe": confidence(lib, albums[6].files, mbid("deluxe", 6)),
    }
    named = {
        "trackNN names, folder": confidence(lib, albums[2].files, mbid("original", 2)),
        "NN - Title names": confidence(lib, albums[7].files, mbid("original", 7)),
        "Artist - Album - NN - Title": confidence(lib, albums[9].files, mbid("original", 9)),
    }
    wrong = {
        f"album {a}: {kind}": confidence(lib, albums[a].files, release)
        for a in (3, 4, 5, 6, 8)
        for kind, release in (
            ("its Greatest Hits", mbid("decoy", a)),
            ("the compilation", mbid("compilation")),
            ("another album", mbid("original", (a + 1) % 10)),
        )
    }
    mislabelled = [replace(f, tags={**f.tags, "album": "Album 3", "artist": "Artist 3"}) for f in albums[4].files]
    wrong["Album 4's audio tagged Album 3"] = confidence(lib, mislabelled, mbid("original", 3))
    assert min(right.values()) >= ACCEPT + 0.05, right
    assert min(named.values()) >= ACCEPT_NAMES + 0.05, named
    assert max(wrong.values()) <= ACCEPT - 0.08, wrong


def test_the_greatest_hits_never_beats_the_album_it_starts_with(lib: Library) -> None:
    for a in (3, 4, 5, 6, 8):
        for first in (3, 4, 8, 9, 12):  # even a folder of exactly the tracks both share
            files = lib.albums[a].files[:first]
            album = lib.albums[a].expected_release.mbid
            assert confidence(lib, files, album) > confidence(lib, files, mbid("decoy", a)) + 0.1


def test_durations_decide_where_names_are_all_there_is(lib: Library) -> None:
    """track01..12 in Artist 2/Album 2: pairs by number only where the audio's length fits."""
    files = lib.albums[2].files
    match = release_distance(query(files), doc(lib, mbid("original", 2)))
    assert len(match.pairs) == 12 and all(t.position == ref + 1 for ref, t, _ in match.pairs)
    shifted = [replace(f, duration_s=f.duration_s + 30) for f in files]
    assert release_distance(query(shifted), doc(lib, mbid("original", 2))).pairs == ()


def test_the_search_bound_never_exceeds_the_distance_found_later(lib: Library) -> None:
    """Fetching stops once the best distance is below every remaining bound: the bound must be a
    true lower bound, or a better release could be skipped."""
    fake = FakeMusicBrainz(lib.world)
    for a in (3, 4, 5, 6, 8):
        q = query(lib.albums[a].files)
        for rel in lib.world.releases.values():
            (summary,) = parse_release_search([_search_result(fake, rel)])
            full = release_distance(q, doc(lib, rel.mbid), summary)
            assert search_bound(q, summary) <= full.distance + 1e-9, (a, rel.title)


def _search_result(fake: FakeMusicBrainz, rel: object) -> dict[str, object]:
    from tests.fakes.mbsearch import _release_result
    from tests.fakes.musicbrainz import _credit

    return _release_result(rel, _credit)  # type: ignore[arg-type]
