"""The fake services themselves: real sockets, the real field names, the real limits and faults."""

from __future__ import annotations

import gzip
import time
from urllib.parse import urlencode

import httpx
import pytest

from tests.fakes import API_KEY, FakeServices, FaultKind, Library, Rates

UA = {"User-Agent": "wkmp-ai/test ( https://example.org )"}


@pytest.fixture
def unlimited(library: Library):  # type: ignore[no-untyped-def]
    with FakeServices(library.world, rates=Rates(None, None, None, None)) as services:
        yield services


@pytest.fixture
def strict(library: Library):  # type: ignore[no-untyped-def]
    with FakeServices(library.world, rates=Rates(acoustid=3.0, musicbrainz=1.0)) as services:
        yield services


def test_musicbrainz_enforces_one_request_a_second(strict: FakeServices, library: Library) -> None:
    release = library.albums[3].expected_release
    with httpx.Client(base_url=strict.musicbrainz.url, headers=UA) as client:
        first = client.get(f"/ws/2/release/{release.mbid}", params={"fmt": "json"})
        second = client.get(f"/ws/2/release/{release.mbid}", params={"fmt": "json"})
        time.sleep(1.0)
        third = client.get(f"/ws/2/release/{release.mbid}", params={"fmt": "json"})
    assert first.status_code == 200 and third.status_code == 200
    assert second.status_code == 503 and "rate limit" in second.json()["error"]
    assert strict.musicbrainz.throttled == 1 and strict.musicbrainz.count() == 3


def test_musicbrainz_release_has_the_real_shape(unlimited: FakeServices, library: Library) -> None:
    release = library.albums[3].expected_release
    inc = "recordings+artist-credits+work-rels+recording-level-rels+work-level-rels+release-groups+tags"
    with httpx.Client(base_url=unlimited.musicbrainz.url, headers=UA) as client:
        doc = client.get(f"/ws/2/release/{release.mbid}?inc={inc}&fmt=json").json()
        missing = client.get("/ws/2/release/00000000-0000-4000-8000-000000000000", params={"fmt": "json"})
        invalid = client.get("/ws/2/release/not-an-mbid")
        anonymous = client.get(f"/ws/2/release/{release.mbid}", headers={"User-Agent": "python-httpx/0.28"})
    track = doc["media"][0]["tracks"][2]
    assert doc["release-group"]["id"] == release.rg_mbid
    assert doc["artist-credit"][0]["artist"]["id"] == release.artists[0].mbid
    assert track["recording"]["artist-credit"][1]["artist"]["name"].startswith("Guest")
    work_rel = track["recording"]["relations"][0]
    assert work_rel["type"] == "performance" and work_rel["work"]["relations"][0]["type"] == "composer"
    assert doc["cover-art-archive"]["front"] is True
    assert missing.status_code == 404 and invalid.status_code == 400 and anonymous.status_code == 403


def test_acoustid_batch_lookup_answers_per_index(unlimited: FakeServices, library: Library) -> None:
    files = library.albums[3].files[:3]
    form = [
        ("client", API_KEY),
        ("format", "json"),
        ("batch", "1"),
        ("meta", "recordings releasegroups releases tracks compress"),
    ]
    for i, f in enumerate(files):
        form += [(f"duration.{i}", str(round(f.duration_s))), (f"fingerprint.{i}", f.recording.fingerprint)]
    form += [("duration.3", "200"), ("fingerprint.3", "AQADunknown")]
    body = gzip.compress(urlencode(form).encode())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"}
    with httpx.Client(base_url=unlimited.acoustid.url) as client:
        doc = client.post("/v2/lookup", content=body, headers=headers).json()
        bad_key = client.post("/v2/lookup", data={"client": "nope", "duration": "10", "fingerprint": "AQAD"})
    assert doc["status"] == "ok" and [e["index"] for e in doc["fingerprints"]] == [0, 1, 2, 3]
    first = doc["fingerprints"][0]["results"][0]
    recording = first["recordings"][0]
    assert recording["id"] == files[0].recording.mbid and first["score"] >= 0.8
    groups = recording["releasegroups"]
    album = next(g for g in groups if g["title"] == "Album 3")
    assert {"title", "artists"}.isdisjoint(album["releases"][0])  # compressed away: equal to the group's
    assert album["releases"][0]["mediums"][0]["tracks"][0]["position"] == 1
    assert doc["fingerprints"][3]["results"] == []
    assert bad_key.status_code == 400 and bad_key.json()["error"]["code"] == 4
    assert unlimited.acoustid.lookups == 4


def test_cover_art_redirects_and_serves_jpegs(unlimited: FakeServices, library: Library) -> None:
    release = library.albums[3].expected_release
    with httpx.Client(base_url=unlimited.coverart.url, follow_redirects=True) as client:
        listing = client.get(f"/release/{release.mbid}")
        image = client.get(listing.json()["images"][0]["thumbnails"]["1200"])
        none = client.get(f"/release/{library.albums[4].expected_release.mbid}")
    assert listing.history[0].status_code == 307
    assert listing.json()["images"][0]["front"] is True
    assert image.headers["content-type"] == "image/jpeg" and image.content[:2] == b"\xff\xd8"
    assert none.status_code == 404


def test_faults_play_in_order_then_stop(fakes: FakeServices, library: Library) -> None:
    rec = library.albums[3].files[0].recording
    fakes.acousticbrainz.inject(FaultKind.STATUS, status=502)
    fakes.acousticbrainz.inject(FaultKind.MALFORMED)
    with httpx.Client(base_url=fakes.acousticbrainz.url) as client:
        statuses = []
        for _ in range(3):
            time.sleep(0.03)
            r = client.get(f"/api/v1/{rec.mbid}/high-level")
            statuses.append((r.status_code, r.content[:10]))
        with pytest.raises(httpx.RemoteProtocolError):
            time.sleep(0.03)
            fakes.acousticbrainz.inject(FaultKind.TRUNCATED)
            client.get(f"/api/v1/{rec.mbid}/high-level")
    assert statuses[0][0] == 502 and statuses[1] == (200, b'{"status":')
    assert statuses[2][0] == 200


def test_musicbrainz_release_search_answers_like_the_real_one(unlimited: FakeServices, library: Library) -> None:
    query = 'release:"Album 3" AND artist:"Artist 3" tracks:12 date:1993'
    with httpx.Client(base_url=unlimited.musicbrainz.url, headers=UA) as client:
        page = client.get("/ws/2/release", params={"query": query, "fmt": "json"}).json()
        second = client.get("/ws/2/release", params={"query": query, "limit": "2", "offset": "2", "fmt": "json"}).json()
        nothing = client.get("/ws/2/release", params={"query": 'release:"No Such Album"', "fmt": "json"}).json()
    assert set(page) == {"created", "count", "offset", "releases"} and page["offset"] == 0
    assert page["created"].endswith("Z") and page["count"] == len(page["releases"]) == 4
    titles = [r["title"] for r in page["releases"]]
    # The album's own editions first (the 1993 original top: its year also matched), the
    # "Greatest Hits" that merely contains the phrase last; scores from 100 down.
    assert titles == ["Album 3", "Album 3", "Album 3", "Album 3: The Greatest Hits"]
    assert page["releases"][0]["id"] == library.albums[3].expected_release.mbid
    scores = [r["score"] for r in page["releases"]]
    assert scores[0] == 100 and scores == sorted(scores, reverse=True) and scores[-1] < 100
    top = page["releases"][0]
    assert top["track-count"] == 12 and top["media"] == [{"format": "CD", "disc-count": 0, "track-count": 12}]
    assert top["artist-credit"][0]["artist"]["name"] == "Artist 3" and top["status"] == "Official"
    assert top["date"] and top["country"] == "GB"
    assert top["release-group"]["primary-type"] == "Album" and top["release-group"]["secondary-types"] == []
    hits = page["releases"][-1]["release-group"]
    assert hits["secondary-types"] == ["Compilation"]
    assert (
        second["count"] == 4
        and second["offset"] == 2
        and [r["id"] for r in second["releases"]] == [r["id"] for r in page["releases"][2:4]]
    )
    assert nothing["count"] == 0 and nothing["releases"] == []


def test_musicbrainz_recording_search_answers_like_the_real_one(unlimited: FakeServices, library: Library) -> None:
    rec = library.albums[3].files[4].recording  # track 5: on the album's three editions and its Greatest Hits
    ms = rec.length_ms
    query = f'recording:"Song 3\\-5" AND artist:"Artist 3" AND dur:[{ms - 5000} TO {ms + 5000}]'
    with httpx.Client(base_url=unlimited.musicbrainz.url, headers=UA) as client:
        page = client.get("/ws/2/recording", params={"query": query, "fmt": "json"}).json()
        too_long = query.replace(f"[{ms - 5000} TO {ms + 5000}]", f"[{ms + 60000} TO *]")
        none = client.get("/ws/2/recording", params={"query": too_long, "fmt": "json"}).json()
    (found,) = page["recordings"]
    assert found["id"] == rec.mbid and found["score"] == 100 and found["length"] == ms
    assert found["artist-credit"][0]["artist"]["id"] == library.albums[3].artist.mbid
    assert len(found["releases"]) == 4
    medium = found["releases"][0]["media"][0]
    assert medium["track-offset"] == 4 and medium["track"][0]["number"] == "5" and medium["track-count"] == 12
    assert {r["release-group"]["primary-type"] for r in found["releases"]} == {"Album"}
    assert none["count"] == 0


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        (
            'release:"Album 3" OR release:"Album 4"',
            {"Album 3", "Album 4", "Album 3: The Greatest Hits", "Album 4: The Greatest Hits"},
        ),
        ('release:"Album 3" AND NOT secondarytype:Compilation', {"Album 3"}),
        ('release:"Album 3" -primarytype:Album', set()),
        ("release:(greatest hits) AND arid:" + "x" * 3, set()),
        ("release:Greatest* AND artist:Various", {"Greatest Hits of Everyone"}),
        ('+release:"album 3" +tracks:[13 TO *]', {"Album 3"}),
        ('release:"ALBUM 3: THE GREATEST HITS"', {"Album 3: The Greatest Hits"}),
        ('release:"Album 3\\: The Greatest Hits" AND format:CD', {"Album 3: The Greatest Hits"}),
    ],
)
def test_musicbrainz_search_understands_lucene(
    unlimited: FakeServices, library: Library, query: str, titles: set[str]
) -> None:
    with httpx.Client(base_url=unlimited.musicbrainz.url, headers=UA) as client:
        page = client.get("/ws/2/release", params={"query": query, "limit": "100", "fmt": "json"}).json()
    assert {r["title"] for r in page["releases"]} == titles


@pytest.mark.parametrize("query", ['release:"Album 3', "AND release:x", "release:[1 TO", "", "tracks:"])
def test_a_query_musicbrainz_cannot_parse_is_a_400(unlimited: FakeServices, query: str) -> None:
    with httpx.Client(base_url=unlimited.musicbrainz.url, headers=UA) as client:
        answer = client.get("/ws/2/release", params={"query": query, "fmt": "json"})
    assert answer.status_code == 400 and "error" in answer.json()


def test_searches_count_against_the_musicbrainz_rate_limit(strict: FakeServices) -> None:
    params = {"query": 'release:"Album 3"', "fmt": "json"}
    with httpx.Client(base_url=strict.musicbrainz.url, headers=UA) as client:
        first = client.get("/ws/2/release", params=params)
        second = client.get("/ws/2/release", params=params)
    assert first.status_code == 200 and second.status_code == 503 and strict.musicbrainz.throttled == 1
