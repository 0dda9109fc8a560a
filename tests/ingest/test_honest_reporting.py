"""What an import could not do is reported once, with its path, in plain words: a file named like
audio that is not audio, one MISSING_ALBUM_ART per album, no Python reprs or FFmpeg error numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import LiveServer, running_server
from tests.fakes import FakeServices, Rates
from tests.fakes.world import Artist, Medium, Recording, Release, Track, World, mbid
from tests.ingest.library import make_album
from tests.ingest.test_import_api import wait_finished
from tests.synth import concat, silence, tone, write_audio
from wkmp_ai import params as P
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.config import Settings

REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>|\[Errno -?\d+\]")


def _errors(server: LiveServer, **body: object) -> list[dict]:
    reply = server.post("/import/start", json=body)
    assert reply.status_code == 202, reply.text
    status = wait_finished(server, reply.json()["session_id"])
    assert status["state"] == "COMPLETED", status
    for error in status["errors"]:
        assert not REPR.search(error["error_message"]), error
    return status["errors"]


def test_files_named_like_audio_that_are_not_audio_are_reported(live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    make_album(root, "Album", 1, seconds=6.0)
    (root / "Album/02 Notes.mp3").write_text("track list\n1. Intro\n2. Outro\n")
    Image.new("RGB", (32, 32)).save(root / "Album/03 Cover.flac", format="PNG")
    (root / "Album/04 Empty.ogg").write_bytes(b"")
    (root / "Album/notes.txt").write_text("not named like audio: not reported")
    errors = _errors(live_server, root_folder="Album")
    not_audio = {e["file_path"]: e for e in errors if e["error_code"] == "NOT_AUDIO"}
    assert set(not_audio) == {"Album/02 Notes.mp3", "Album/03 Cover.flac", "Album/04 Empty.ogg"}
    assert "text" in not_audio["Album/02 Notes.mp3"]["error_message"]
    assert "PNG image" in not_audio["Album/03 Cover.flac"]["error_message"]
    assert "empty" in not_audio["Album/04 Empty.ogg"]["error_message"]
    assert all(e["severity"] == "warning" for e in not_audio.values())
    # reported again by the next import (still not imported), not silently forgotten
    again = _errors(live_server, root_folder="Album")
    assert {e["file_path"] for e in again if e["error_code"] == "NOT_AUDIO"} == set(not_audio)


def test_warnings_about_one_passage_of_a_file_say_which_passage(live_server: LiveServer) -> None:
    """Two clipped songs in one file, 3 s of digital silence between them: two CLIPPING_DETECTED
    warnings that name their passage, not the same line twice."""
    root = live_server.settings.root_folder
    loud = np.clip(tone(6.0, sr=44100, freq=1000.0, amplitude=1.4), -1.0, 1.0)
    (root / "Rip").mkdir()
    write_audio(root / "Rip/side.flac", concat(loud, silence(3.0), loud), sr=44100, fmt="flac")
    errors = _errors(live_server, root_folder="Rip")
    clipped = sorted(e["error_message"] for e in errors if e["error_code"] == "CLIPPING_DETECTED")
    assert [m.split(":")[0] for m in clipped] == ["passage 1 of 2", "passage 2 of 2"], clipped


def test_a_broken_cover_image_is_described_in_plain_words(live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    make_album(root, "Album", 1, seconds=6.0)
    (root / "Album/cover.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    errors = _errors(live_server, root_folder="Album")
    (art,) = [e for e in errors if e["error_code"] == "COVER_ART_INVALID"]
    assert art["file_path"] == "Album/cover.jpg"
    assert "not an image" in art["error_message"] or "damaged" in art["error_message"], art


# --- one MISSING_ALBUM_ART per album ------------------------------------------------------------


@pytest.fixture
def two_disc_album(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    """A two-disc album in two folders (CD1, CD2) whose release has no art anywhere."""
    root = settings.root_folder
    discs = [make_album(root, f"Artist/Album/CD{d}", 2, seconds=6.0, seed=10 + d, tags=False) for d in (1, 2)]
    world = World()
    artist = Artist(mbid("art-artist"), "Artist", "Artist")
    media = []
    for d, tracks in enumerate(discs, 1):
        media_tracks = []
        for n, track in enumerate(tracks, 1):
            (passage,) = analyze_file(track.path, P.defaults(), flavor=False).passages
            rec = Recording(
                mbid=mbid("art-rec", d, n),
                title=f"Song {d}.{n}",
                length_ms=round(passage.duration_s * 1000),
                artists=[artist],
                works=[],
                fingerprint=passage.fingerprint or "",
                acoustid_track=mbid("art-acoustid", d, n),
            )
            world.add_recording(rec)
            media_tracks.append(Track(mbid("art-track", d, n), n, rec.title, rec.length_ms, rec))
        media.append(Medium(d, "CD", media_tracks))
    world.add_release(
        Release(
            mbid("art-release"), "Album", "2001-01-01", "GB", [artist], mbid("art-rg"), "Album", media, front=False,
            back=False,
        )
    )  # fmt: skip
    with FakeServices(world, rates=Rates.fast(20.0), tolerance=0.5) as fakes:
        live_settings = replace(settings, **fakes.settings_changes())
        with running_server(live_settings, timeout=30) as live:
            yield live


def test_one_missing_album_art_per_album(two_disc_album: LiveServer) -> None:
    errors = _errors(two_disc_album)
    missing = [e for e in errors if e["error_code"] == "MISSING_ALBUM_ART"]
    assert len(missing) == 1, missing
    assert missing[0]["file_path"].startswith("Artist/Album")
