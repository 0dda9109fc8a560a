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
