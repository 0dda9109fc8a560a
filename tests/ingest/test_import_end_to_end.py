"""End to end : a 10-file library imported through ``POST /import/start``
against the local fake services, watched over SSE to ``completed``, then every row checked.

The library is real audio with exact truths: every song is framed by digital silence, so its
passage boundaries are known to the sample, and one file holds three songs separated by 2.000 s
silences. The fake MusicBrainz world is built from the fingerprints our own analysis computes
for those files, the way the real AcoustID knows the fingerprints of real recordings.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import LiveServer, running_server
from tests.fakes import FakeServices, Rates
from tests.fakes.world import Artist, Medium, Recording, Release, Track, Work, World, highlevel_doc, mbid
from tests.ingest.library import Track as AudioTrack
from tests.ingest.library import make_album
from tests.ingest.test_import_api import read_sse
from wkmp_ai import params as P
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.config import Settings
from wkmp_ai.ticks import TICKS_PER_SECOND, seconds_to_ticks

# Sharp edges in lossless files must land within 10 ms . A lossy codec smears
# an abrupt edge: pre-echo before an onset (up to one transform block, ~46 ms for Vorbis) and a
# decaying tail after a cut (Opus here stays above -60 dBFS for 80 ms). The decoded signal itself
# starts earlier and ends later than the source, so lossy files get 100 ms.
TOLERANCE_S = {"flac": 0.010, "wav": 0.010, "mp3": 0.100, "ogg": 0.100, "opus": 0.100}


@dataclass
class Expected:
    file: AudioTrack
    bounds: list[tuple[float, float]]  # true passage (start_s, end_s)
    recordings: list[Recording]
    release: Release


def passage_bounds(track: AudioTrack, *, tail: float = 1.0) -> list[tuple[float, float]]:
    """Passages tile the file (docs/design.md, *Passages*): from 0 to its end (the last song plus ``tail`` s of
    silence), internal boundaries at the silences' midpoints."""
    songs = track.songs
    cuts = [(songs[i][1] + songs[i + 1][0]) / 2 for i in range(len(songs) - 1)]
    starts = [0.0, *cuts]
    ends = [*cuts, songs[-1][1] + tail]
    return list(zip(starts, ends, strict=True))


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World, list[Expected]]:
    root = tmp_path_factory.mktemp("e2e") / "music"
    first = make_album(
        root, "Alpha/First", 5, seconds=9.0, formats=("flac", "wav", "mp3", "ogg", "opus"), seed=1, lead=1.0, tail=1.0
    )
    second = make_album(root, "Beta/Second", 5, seconds=7.0, seed=2, songs_in_last=3, lead=1.0, tail=1.0)
    Image.new("RGB", (1600, 1600), (10, 120, 200)).save(root / "Alpha/First/cover.jpg")
    world = World()
    expected: list[Expected] = []
    for index, (album, tracks) in enumerate((("First", first), ("Second", second))):
        artist = Artist(mbid("e2e-artist", index), f"Artist {album}", f"{album}, Artist")
        recordings: list[Recording] = []
        per_file = []
        for track in tracks:
            analysis = analyze_file(track.path, P.defaults(), flavor=False)
            file_recs = []
            for n, passage in enumerate(analysis.passages):
                key = (album, track.rel_path, n)
                rec = Recording(
                    mbid=mbid("e2e-recording", *key),
                    title=f"{album} song {len(recordings) + 1}",
                    length_ms=round((passage.end_s - passage.start_s) * 1000),
                    artists=[artist],
                    works=[Work(mbid("e2e-work", *key), f"{album} work {len(recordings) + 1}")],
                    fingerprint=passage.fingerprint or "",
                    acoustid_track=mbid("e2e-acoustid", *key),
                    highlevel=None if len(recordings) == 0 else highlevel_doc(mbid("e2e-recording", *key), _rng()),
                )
                world.add_recording(rec)
                recordings.append(rec)
                file_recs.append(rec)
            per_file.append((track, file_recs))
        tracks_on_release = [
            Track(mbid("e2e-track", album, i), i, r.title, r.length_ms, r) for i, r in enumerate(recordings, 1)
        ]
        release = world.add_release(
            Release(
                mbid("e2e-release", album),
                album,
                f"200{index}-01-01",
                "GB",
                [artist],
                mbid("e2e-rg", album),
                album,
                [Medium(1, "CD", tracks_on_release)],
            )
        )
        world.add_release(  # a later re-release of the same tracks, the wrong choice for this folder
            Release(
                mbid("e2e-reissue", album),
                album,
                "2020-01-01",
                "US",
                [artist],
                mbid("e2e-rg", album),
                album,
                [Medium(1, "CD", tracks_on_release)],
                front=False,
                back=False,
            )
        )
        for track, file_recs in per_file:
            expected.append(Expected(track, passage_bounds(track), file_recs, release))
    return root, world, expected


def _rng():  # type: ignore[no-untyped-def]
    import random

    return random.Random(11)


@pytest.fixture
def fakes(library: tuple[Path, World, list[Expected]]) -> Iterator[FakeServices]:
    with FakeServices(library[1], rates=Rates.fast(20.0), tolerance=0.5) as services:
        yield services


@pytest.fixture
def server(library, fakes: FakeServices, settings: Settings) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    root = library[0]
    for stale in root.glob("wkmp.db*"):
        stale.unlink()
    e2e_settings = replace(settings, root_folder=root, **fakes.settings_changes())
    with running_server(e2e_settings, timeout=30) as live:
        yield live


def q(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def test_ten_files_end_to_end(server: LiveServer, fakes: FakeServices, library) -> None:  # type: ignore[no-untyped-def]
    root, _world, expected = library
    session_id = server.post("/import/start", json={}).json()["session_id"]
    events = read_sse(server.url + "/events", params={"session_id": session_id})
    completed = events[-1][2]
    assert events[-1][0] == "completed" and completed["state"] == "COMPLETED", completed
    assert completed["files_processed"] == 10 and completed["files_failed"] == 0
    assert completed["passages_created"] == 12
    assert sum(fakes.throttled().values()) == 0  # the limiters kept every service within its rate
    db = root / "wkmp.db"

    # files: every file, its SHA-256 and its decoded duration
    files = {
        path: (guid, digest, duration)
        for guid, path, digest, duration in q(db, "SELECT guid, path, hash, duration FROM files")
    }
    assert set(files) == {e.file.rel_path for e in expected}
    for e in expected:
        _guid, digest, duration = files[e.file.rel_path]
        assert digest == hashlib.sha256(e.file.path.read_bytes()).hexdigest()
        assert duration == pytest.approx(e.file.songs[-1][1] + 1.0, abs=0.05)

    # passages: boundaries within 10 ms of the truth, lead points inside them, flavor and metadata
    for e in expected:
        rows = q(
            db,
            "SELECT guid, start_time_ticks, end_time_ticks, lead_in_start_ticks, lead_out_start_ticks, "
            "musical_flavor_vector, import_metadata FROM passages WHERE file_id = ? "
            "ORDER BY start_time_ticks",
            files[e.file.rel_path][0],
        )
        assert len(rows) == len(e.bounds), e.file.rel_path
        assert rows[0][1] == 0 and rows[-1][2] == seconds_to_ticks(files[e.file.rel_path][2])  # exact ends
        assert all(a[2] == b[1] for a, b in itertools.pairwise(rows))  # shared boundaries
        for (_guid, start, end, lead_in, lead_out, vector, metadata), (true_start, true_end) in zip(
            rows, e.bounds, strict=True
        ):
            tolerance = seconds_to_ticks(TOLERANCE_S[e.file.format])
            assert abs(start - seconds_to_ticks(true_start)) <= tolerance, (e.file.rel_path, start / TICKS_PER_SECOND)
            assert abs(end - seconds_to_ticks(true_end)) <= tolerance, (e.file.rel_path, end / TICKS_PER_SECOND)
            assert start <= lead_in <= lead_out <= end
            amplitude = json.loads(metadata)["amplitude_analysis"]
            assert amplitude["parameters_used"]["rms_window_ms"] == 100
            assert lead_in - start == seconds_to_ticks(amplitude["lead_in_detected_s"])
            assert end - lead_out == seconds_to_ticks(amplitude["lead_out_detected_s"])
            flavor = json.loads(vector)
            for distribution in flavor.values():
                assert sum(distribution.values()) == pytest.approx(1.0, abs=1e-3)

    # identification: every passage linked to its recording, the right release, works and artists
    links = q(
        db,
        "SELECT f.path, p.start_time_ticks, s.recording_mbid, ps.start_time_ticks, ps.end_time_ticks, "
        "p.end_time_ticks - p.start_time_ticks FROM passage_songs ps JOIN passages p ON p.guid = "
        "ps.passage_id JOIN songs s ON s.guid = ps.song_id JOIN files f ON f.guid = p.file_id "
        "ORDER BY f.path, p.start_time_ticks",
    )
    want = [(e.file.rel_path, r.mbid) for e in sorted(expected, key=lambda x: x.file.rel_path) for r in e.recordings]
    assert [(path, rec) for path, _s, rec, *_ in links] == want
    assert all(ps_start == 0 and ps_end == length for *_, ps_start, ps_end, length in links)
    albums = q(
        db,
        "SELECT f.path, a.album_mbid, a.title FROM passage_albums pa JOIN albums a ON a.guid = "
        "pa.album_id JOIN passages p ON p.guid = pa.passage_id JOIN files f ON f.guid = p.file_id",
    )
    assert len(albums) == 12
    assert {path: mbid_ for path, mbid_, _ in albums} == {e.file.rel_path: e.release.mbid for e in expected}
    assert q(db, "SELECT count(*) FROM albums") == [(2,)]  # the chosen releases only, not the re-releases
    assert q(db, "SELECT count(*) FROM songs") == [(12,)]
    assert q(db, "SELECT count(*) FROM works") == [(12,)] and q(db, "SELECT count(*) FROM song_works") == [(12,)]
    assert q(db, "SELECT count(*), min(weight), max(weight) FROM song_artists") == [(12, 1.0, 1.0)]
    assert sorted(r[0] for r in q(db, "SELECT name FROM artists")) == ["Artist First", "Artist Second"]

    # caches: a second import needs none of the services
    assert q(db, "SELECT count(*) FROM acoustid_cache")[0][0] == 12
    assert q(db, "SELECT count(*) FROM musicbrainz_cache WHERE entity_type = 'release'")[0][0] >= 2
    assert q(db, "SELECT count(*) FROM acousticbrainz_cache")[0][0] == 10  # two recordings have no AB data
    sources = q(db, "SELECT json_extract(import_metadata, '$.flavor.source'), count(*) FROM passages GROUP BY 1")
    assert dict(sources) == {"acousticbrainz": 10, "essentia": 2}
    assert completed["error_summary"].get("ACOUSTICBRAINZ_NO_DATA") == 2

    # cover art: the folder's cover for album First (resized), the archive's for Second
    images = q(db, "SELECT image_type, entity_id, file_path, width, height FROM images")
    album_ids = dict(q(db, "SELECT title, guid FROM albums"))
    first_art = [i for i in images if i[1] == album_ids["First"]]
    assert [(t, w, h) for t, _e, _p, w, h in first_art] == [("album_front", 1024, 1024)]
    assert (root / first_art[0][2]).is_file()
    assert {t for t, e, *_ in images if e == album_ids["Second"]} >= {"album_front"}

    # a second import of the same library: nothing to analyse, not one request
    fakes.reset()
    again = server.post("/import/start", json={}).json()["session_id"]
    final = read_sse(server.url + "/events", params={"session_id": again})[-1][2]
    assert final["state"] == "COMPLETED" and final["files_processed"] == 0 and final["files_unchanged"] == 10
    assert sum(fakes.counts().values()) == 0
    assert q(db, "SELECT count(*) FROM passages") == [(12,)] and q(db, "SELECT count(*) FROM passage_songs") == [(12,)]
