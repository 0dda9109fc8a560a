"""A whole-album rip with its cue sheet, imported end to end against the fakes (docs/cue.md).

The rip is one gapless FLAC of three tracks and a cue sheet at frame positions that are not
silences. MusicBrainz (the fake) knows the disc the way users submit discs: the medium carries the
Disc ID of its table of contents, which the fake computes on its own from the track lengths.

- one release carries the disc: the passages are its tracks, by Disc ID, at one MusicBrainz request
  and no AcoustID request; the passage rows keep the cue's exact ticks;
- the disc is unknown but its TOC matches one release's track lengths (MusicBrainz's fuzzy answer):
  the same;
- two releases carry the disc, or none fits: AcoustID and release choice decide, as for any file;
- a re-import after the cue sheet was edited analyses the file again and asks nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.audio.test_cue_passages import CUE, FRAMES, LENGTH_S, SR, gapless_album
from tests.conftest import running_server
from tests.fakes import FakeServices, Rates
from tests.fakes.musicbrainz import attach_disc_id
from tests.fakes.world import Artist, Medium, Recording, Release, Track, World, mbid
from tests.ingest.test_import_api import wait_finished
from tests.synth import write_audio
from wkmp_ai import params as P
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.config import Settings
from wkmp_ai.records.trackindex import TICKS_PER_FRAME
from wkmp_ai.scan.findindex import find_track_index

LEAD_OUT = round(LENGTH_S * 75)
TRACK_FRAMES = [b - a for a, b in zip(FRAMES, [*FRAMES[1:], LEAD_OUT], strict=True)]
CUE_TITLES = ["First Light", "Second Wind", "Third Time"]


def _rip(root: Path) -> Path:
    folder = root / "The Gapless" / "No Silence Here"
    folder.mkdir(parents=True)
    audio = write_audio(folder / "No Silence Here.flac", gapless_album(), sr=SR)
    (folder / "No Silence Here.cue").write_text(CUE.format(name="No Silence Here.wav", pregap2=""), encoding="utf-8")
    return audio


def _world(fingerprints: list[str], case: str) -> tuple[World, str]:
    """The fake catalogue for ``case``; returns it and the release the passages should land on."""
    world = World()
    artist = Artist(mbid("cue-artist"), "The Gapless", "Gapless, The")
    recordings = [
        world.add_recording(
            Recording(mbid("cue-rec", i), f"Recorded {title}", round(n * 1000 / 75), [artist], [], fp, mbid("at", i))
        )
        for i, (title, n, fp) in enumerate(zip(CUE_TITLES, TRACK_FRAMES, fingerprints, strict=True))
    ]

    def release(key: str, date: str, recs: list[Recording]) -> Release:
        tracks = [Track(mbid("cue-track", key, i), i, r.title, r.length_ms, r) for i, r in enumerate(recs, 1)]
        return world.add_release(
            Release(mbid("cue", key), "No Silence Here", date, "GB", [artist], mbid("cue-rg"), "No Silence Here",
                    [Medium(1, "CD", tracks)])
        )  # fmt: skip

    original = release("original", "2001-01-01", recordings)
    reissue = release("reissue", "2011-01-01", recordings)
    if case == "one":
        attach_disc_id(original.media[0])
    elif case == "two":  # one pressing sold under two releases
        attach_disc_id(original.media[0])
        attach_disc_id(reissue.media[0])
    elif case == "fuzzy":  # MusicBrainz has no Disc ID, but one release has these track lengths
        reissue.media[0] = Medium(1, "CD", [*reissue.media[0].tracks, reissue.media[0].tracks[0]])
    elif case == "none":  # track lengths off by 10 s on both: no fuzzy match either
        for rel in (original, reissue):
            for track in rel.media[0].tracks:
                track.length_ms += 10_000
    return world, original.mbid


def _rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


@pytest.mark.parametrize("case", ["one", "fuzzy", "two", "none"])
def test_a_rip_with_its_cue_sheet_imports_as_its_tracks(settings: Settings, case: str) -> None:
    root = settings.root_folder
    audio = _rip(root)
    fingerprints = [
        p.fingerprint or ""
        for p in analyze_file(audio, P.defaults(), flavor=False, find_index=find_track_index).passages
    ]
    assert len(fingerprints) == 3 and all(fingerprints)
    world, expected_release = _world(fingerprints, case)
    with (
        FakeServices(world, rates=Rates.fast(50.0), tolerance=0.5) as fakes,
        running_server(replace(settings, **fakes.settings_changes())) as server,
    ):
        status = wait_finished(server, server.post("/import/start", json={}).json()["session_id"])
        assert status["state"] == "COMPLETED" and status["files_processed"] == 1, status
        assert status["files_identified"] == 1, status["errors"]
        db = root / "wkmp.db"
        rows = _rows(
            db,
            "SELECT p.start_time_ticks, p.end_time_ticks, p.import_metadata, s.recording_mbid, a.album_mbid, "
            "ip.method FROM passages p JOIN passage_songs ps ON ps.passage_id = p.guid JOIN songs s ON "
            "s.guid = ps.song_id JOIN passage_albums pa ON pa.passage_id = p.guid JOIN albums a ON "
            "a.guid = pa.album_id JOIN wkmp_ai_identify_passages ip ON ip.passage_id = p.guid "
            "ORDER BY p.start_time_ticks",
        )
        starts = [0, FRAMES[1] * TICKS_PER_FRAME, FRAMES[2] * TICKS_PER_FRAME]
        assert [r[0] for r in rows] == starts and [r[1] for r in rows[:2]] == starts[1:]
        assert [json.loads(r[2])["segmentation"]["boundary_source"] for r in rows] == ["cue"] * 3
        assert [r[3] for r in rows] == [mbid("cue-rec", i) for i in range(3)]
        assert {r[4] for r in rows} == {expected_release}
        methods = {r[5] for r in rows}
        discid_asks = fakes.musicbrainz.count("/ws/2/discid/")
        assert discid_asks == 1
        if case in ("one", "fuzzy"):
            assert methods == {"disc_id"}
            assert fakes.musicbrainz.count() == 1 and fakes.acoustid.count() == 0
        else:
            assert "disc_id" not in methods and fakes.acoustid.count() >= 1

        # The cue sheet is edited (a title fixed): the file is analysed again, identified from the cache.
        fakes.reset()
        cue = audio.with_suffix(".cue")
        cue.write_text(cue.read_text().replace("Third Time", "Third Time (Live)"), encoding="utf-8")
        os.utime(cue, ns=(cue.stat().st_mtime_ns + 10**9,) * 2)
        again = wait_finished(server, server.post("/import/start", json={}).json()["session_id"])
        assert again["state"] == "COMPLETED" and again["files_processed"] == 1, again
        assert fakes.counts()["musicbrainz"] == 0 and fakes.counts()["acoustid"] == 0
        assert len(_rows(db, "SELECT guid FROM passages")) == 3


def test_without_identification_the_passages_keep_the_cue_titles(settings: Settings) -> None:
    root = settings.root_folder
    _rip(root)
    with running_server(settings) as server:  # every service address is dead: nothing is identified
        status = wait_finished(server, server.post("/import/start", json={}).json()["session_id"])
        assert status["state"] == "COMPLETED" and status["files_processed"] == 1
        # The segment editor says where the boundaries came from.
        (listed,) = server.get("/files").json()["files"]
        detail = server.get(f"/files/{listed['id']}").json()
        assert [p["boundary_source"] for p in detail["passages"]] == ["cue"] * 3
    rows = _rows(root / "wkmp.db", "SELECT title, artist, album FROM passages ORDER BY start_time_ticks")
    assert rows == [
        ("First Light", "The Gapless", "No Silence Here"),
        ("Second Wind", "Guest Star", "No Silence Here"),
        ("Third Time", "The Gapless", "No Silence Here"),
    ]
    pending = _rows(root / "wkmp.db", "SELECT request FROM wkmp_ai_identify_files")
    request = json.loads(pending[0][0])
    assert [p["title"] for p in request["passages"]] == CUE_TITLES
    assert request["disc_id"] and request["disc_toc"] == "1+3+4650+150+1683+3232"
