"""Parsing service answers into typed records, and trimming what goes into the caches."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.fakes import Library
from tests.fakes.acoustid import FakeAcoustID
from tests.fakes.musicbrainz import FakeMusicBrainz
from wkmp_ai.identify.acousticbrainz import flavor_vector
from wkmp_ai.identify.acoustid import candidates_from_json, candidates_to_json, lookup_key, parse_results
from wkmp_ai.identify.coverart import ImageRefused, parse_listing, resize_to_jpeg
from wkmp_ai.identify.musicbrainz import (
    RELEASE_INC,
    parse_recording,
    parse_release,
    recording_evidence,
    recordings_of_release,
    trim_release,
)

META = {"recordings", "releasegroups", "releases", "tracks", "compress"}


def test_acoustid_results_become_candidates_with_release_votes(library: Library) -> None:
    spec = library.albums[3].files[1]
    results = FakeAcoustID(library.world)._results(spec.recording.fingerprint, round(spec.duration_s), META)
    low = {"id": "x", "score": 0.3, "recordings": [{"id": "11111111-1111-4111-8111-111111111111"}]}
    candidates = parse_results([*results, low], min_score=0.5)
    assert [c.recording_mbid for c in candidates] == [spec.recording.mbid]
    votes = {ev.release_mbid: ev for ev in candidates[0].releases}
    original = library.albums[3].expected_release
    assert votes[original.mbid].title == "Album 3"  # compress dropped it; the release group's is used
    assert (votes[original.mbid].medium_position, votes[original.mbid].track_position) == (1, 2)
    assert votes[original.mbid].track_count == 12 and votes[original.mbid].date == original.date
    assert len(votes) == 5  # original, re-release, deluxe, compilation, the artist's "Greatest Hits"
    assert candidates_from_json(candidates_to_json(candidates)) == candidates


def test_acoustid_results_without_release_groups_and_with_junk() -> None:
    results = [
        {
            "id": "t1",
            "score": 0.91,
            "recordings": [
                {
                    "id": "017830c1-d1cf-46f3-8801-aaaa0a930223",
                    "title": "Nina",
                    "duration": 225,
                    "artists": [{"id": "b8a7c51f-362c-4dcb-a259-bc6e0095f0a6", "name": "Ed Sheeran"}],
                    "releases": [
                        {"id": "a2b25883-306f-4a53-809a-a234737c209d", "track_count": 12, "date": {"year": 2014}},
                    ],
                },
                "garbage",
            ],
        },
        {"id": "t2", "score": "high"},
    ]
    (candidate,) = parse_results(results, min_score=0.5)
    assert candidate.title == "Nina" and candidate.duration_s == 225.0
    assert candidate.artists[0].name == "Ed Sheeran"
    assert candidate.releases[0].date == "2014" and candidate.releases[0].track_position is None


def test_lookup_key_is_short_and_depends_on_duration() -> None:
    fp = "AQAD" + "x" * 3000
    assert len(lookup_key(fp, 200)) == 64
    assert lookup_key(fp, 200) != lookup_key(fp, 201)


def test_release_document_parses_the_same_trimmed_or_not(library: Library) -> None:
    release = library.albums[3].expected_release
    doc = FakeMusicBrainz(library.world).release_json(release, set(RELEASE_INC.split("+")))
    trimmed = trim_release(json.loads(json.dumps(doc)))
    assert len(json.dumps(trimmed)) < len(json.dumps(doc))
    full, small = parse_release(doc), parse_release(trimmed)
    assert full == small
    assert full.track_count == 12 and full.complete and full.cover_art_front is True
    third = full.tracks[2]
    assert [a.name for a in third.recording.artists] == ["Artist 3", "Guest 3"]
    assert third.recording.works[0].title == "Song 3-3" and third.length_s == pytest.approx(
        third.recording.length_s, abs=0.02
    )
    assert full.tracks[5].recording.works == ()  # track 6 performs no work
    derived = recordings_of_release(trimmed)
    assert derived[0]["releases"][0]["id"] == release.mbid
    assert parse_recording(derived[2]) == third.recording


def test_recording_lookup_lists_release_votes(library: Library) -> None:
    rec = library.albums[3].files[1].recording
    doc = FakeMusicBrainz(library.world).recording_json(
        rec, {"artist-credits", "releases", "media", "work-rels", "tags"}, with_releases=True
    )
    votes = recording_evidence(doc)
    assert sorted(v.title or "" for v in votes) == ["Album 3"] * 3 + [
        "Album 3: The Greatest Hits",
        "Greatest Hits of Everyone",
    ]
    original = next(v for v in votes if v.release_mbid == library.albums[3].expected_release.mbid)
    assert original.track_position == 2 and original.recording_mbid == rec.mbid
    compilation = next(v for v in votes if v.title == "Greatest Hits of Everyone")
    assert compilation.track_position == 8  # album 3's second track, after albums 0-2's two each


def test_flavor_vector_keeps_only_the_all_maps() -> None:
    doc = {
        "highlevel": {
            "danceability": {"all": {"danceable": 0.7, "not_danceable": 0.3}, "probability": 0.7, "value": "danceable"},
            "broken": {"all": {"a": "x", "b": 0.5}},
            "single": {"all": {"only": 1.0}},
            "genre": {"all": {"rock": 0.5, "pop": 0.3, "jazz": 0.2}, "version": {"gaia": "2"}},
        }
    }
    assert flavor_vector(doc) == {
        "danceability": {"danceable": 0.7, "not_danceable": 0.3},
        "genre": {"jazz": 0.2, "pop": 0.3, "rock": 0.5},
    }
    assert flavor_vector({"message": "Not found"}) is None
    assert flavor_vector(None) is None


def test_cover_listing_prefers_the_1200_thumbnail() -> None:
    doc = {
        "images": [
            {"types": ["Back"], "back": True, "front": False, "image": "http://x/2.jpg", "thumbnails": {}},
            {
                "types": ["Front"],
                "front": True,
                "image": "http://x/1.jpg",
                "thumbnails": {"1200": "http://x/1-1200.jpg"},
            },
            {"types": ["Booklet"], "image": "http://x/3.jpg"},
        ]
    }
    images = parse_listing(doc)
    assert [(i.kind, i.url) for i in images] == [("front", "http://x/1-1200.jpg"), ("back", "http://x/2.jpg")]


def test_images_are_resized_to_fit_1024_and_garbage_is_refused() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (2000, 1500), (10, 20, 30)).save(buf, "PNG")
    jpeg, width, height = resize_to_jpeg(buf.getvalue())
    assert (width, height) == (1024, 768)
    with Image.open(io.BytesIO(jpeg)) as img:
        assert img.format == "JPEG" and img.size == (1024, 768)
    small = io.BytesIO()
    Image.new("RGB", (300, 300)).save(small, "JPEG")
    assert resize_to_jpeg(small.getvalue())[1:] == (300, 300)  # never enlarged
    for junk in (b"", b"<html>not found</html>", small.getvalue()[:200]):
        with pytest.raises(ImageRefused):
            resize_to_jpeg(junk)
