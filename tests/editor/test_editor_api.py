"""The segment editor's API over a real import (real SQLite, real audio, services on 127.0.0.1):
the file list and its filters, one file, peaks, audio with Range, and every rule of
PUT /files/{id}/passages, then a re-import that keeps the edit."""

from __future__ import annotations

import itertools
import json
import sqlite3
from typing import Any

import numpy as np
import pytest

from tests.editor.conftest import SONG_S, Imported
from tests.synth import concat, music_like, silence, write_audio
from wkmp_ai.ticks import TICKS_PER_SECOND, seconds_to_ticks

T = TICKS_PER_SECOND


def detail(imported: Imported, folder: str) -> dict[str, Any]:
    response = imported.server.get(f"/files/{imported.ids[folder]}")
    assert response.status_code == 200, response.text
    return response.json()


def put(imported: Imported, folder: str, passages: list[dict[str, Any]]) -> Any:
    return imported.server.client.put(f"/files/{imported.ids[folder]}/passages", json={"passages": passages})


def as_edits(file: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": p["id"], "start_ticks": p["start_ticks"], "end_ticks": p["end_ticks"]} for p in file["passages"]]


# --- list and detail ----------------------------------------------------------------------------


def test_file_list_filters_and_search(imported: Imported) -> None:
    everything = imported.server.get("/files").json()
    assert everything["total"] == len(imported.ids)
    by_path = {f["path"]: f for f in everything["files"]}
    mix = by_path[imported.files["Mix"].rel_path]
    assert mix["passages"] == 3 and mix["duration_s"] == pytest.approx(0.5 + 3 * SONG_S + 2 * 2.0 + 0.5, abs=0.01)
    assert [f["path"] for f in everything["files"]] == sorted(by_path)
    multi = {f["path"] for f in imported.server.get("/files", params={"filter": "multi_passage"}).json()["files"]}
    assert multi == {imported.files[k].rel_path for k in ("Mix", "Album", "Reimport", "Browser")}
    review = {f["path"] for f in imported.server.get("/files", params={"filter": "needs_review"}).json()["files"]}
    assert multi <= review  # several passages always ask for a look
    found = imported.server.get("/files", params={"q": "Odd/"}).json()
    assert [f["path"] for f in found["files"]] == [imported.files["Odd"].rel_path]
    page = imported.server.get("/files", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == len(imported.ids) and len(page["files"]) == 2
    assert page["files"][0]["path"] == everything["files"][1]["path"]
    assert imported.server.get("/files", params={"q": "%"}).json()["total"] == 0  # LIKE wildcards are literal


@pytest.mark.parametrize(
    "params", [{"filter": "bogus"}, {"limit": 0}, {"limit": 501}, {"offset": -1}, {"q": "x" * 201}]
)
def test_file_list_refuses_bad_parameters(imported: Imported, params: dict[str, Any]) -> None:
    response = imported.server.get("/files", params=params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_one_file_with_its_passages(imported: Imported) -> None:
    file = detail(imported, "Mix")
    assert file["path"] == imported.files["Mix"].rel_path
    assert file["ticks_per_second"] == T
    passages = file["passages"]
    assert len(passages) == 3
    assert passages[0]["start_ticks"] == 0 and passages[-1]["end_ticks"] == file["duration_ticks"]
    for a, b in itertools.pairwise(passages):
        assert a["end_ticks"] == b["start_ticks"]  # passages tile the file
    for p, (song_start, song_end) in zip(passages, imported.files["Mix"].songs, strict=True):
        assert p["start_ticks"] <= p["lead_in_start_ticks"] <= p["lead_out_start_ticks"] <= p["end_ticks"]
        assert abs(p["lead_in_start_ticks"] / T - song_start) < 0.5  # the music begins about there
        assert abs(p["lead_out_start_ticks"] / T - song_end) < 0.5  # and ends about there
        assert p["boundary_source"] == "silence" and p["manually_adjusted"] is False
        assert p["identification"]["status"] in {"pending", "no_match"}
    assert imported.server.get("/files/00000000-0000-4000-8000-000000000000").status_code == 404
    assert imported.server.get("/files/not%20an%20id").status_code == 400


# --- peaks and audio ----------------------------------------------------------------------------


def test_peaks_were_made_by_the_import_and_follow_the_music(imported: Imported) -> None:
    file_id = imported.ids["Mix"]
    assert imported.rows("SELECT count(*) FROM wkmp_ai_peaks WHERE file_id = ?", file_id) == [(1,)]
    peaks = imported.server.get(f"/files/{file_id}/peaks").json()
    duration = detail(imported, "Mix")["duration_s"]
    assert peaks["duration_s"] == pytest.approx(duration, abs=1e-6)
    assert peaks["count"] == len(peaks["min"]) == len(peaks["max"])
    assert peaks["count"] == pytest.approx(duration * peaks["peaks_per_second"], abs=1)
    step = peaks["samples_per_peak"] / peaks["sample_rate"]
    hi, lo = np.array(peaks["max"]), np.array(peaks["min"])
    assert np.all(lo <= hi)
    for start, end in imported.files["Mix"].songs:
        inside = slice(int(start / step) + 2, int(end / step) - 2)
        assert hi[inside].max() > 0.1 and lo[inside].min() < -0.1  # music
    first_gap = slice(
        int((imported.files["Mix"].songs[0][1]) / step) + 2, int(imported.files["Mix"].songs[1][0] / step) - 2
    )
    assert np.abs(hi[first_gap]).max() < 1e-3 and np.abs(lo[first_gap]).max() < 1e-3  # digital silence


def test_peaks_of_a_file_imported_before_are_made_once_and_kept(imported: Imported) -> None:
    file_id = imported.ids["Single"]
    stored = imported.server.get(f"/files/{file_id}/peaks").json()
    with sqlite3.connect(imported.db_path) as conn:
        conn.execute("DELETE FROM wkmp_ai_peaks WHERE file_id = ?", (file_id,))
    again = imported.server.get(f"/files/{file_id}/peaks").json()
    assert again == stored  # the decode of its own gives what the import's decode gave
    assert imported.rows("SELECT count(*) FROM wkmp_ai_peaks WHERE file_id = ?", file_id) == [(1,)]


def test_audio_answers_ranges(imported: Imported) -> None:
    url = f"/files/{imported.ids['Mix']}/audio"
    data = imported.files["Mix"].path.read_bytes()
    whole = imported.server.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "audio/flac" and whole.headers["accept-ranges"] == "bytes"
    part = imported.server.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-1099/{len(data)}"
    assert part.content == data[100:1100]
    tail = imported.server.get(url, headers={"Range": "bytes=-64"})
    assert tail.status_code == 206 and tail.content == data[-64:]
    beyond = imported.server.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert beyond.status_code == 416


def test_audio_chromium_cannot_play_is_transcoded_to_flac(imported: Imported) -> None:
    url = f"/files/{imported.ids['Odd']}/audio"  # AIFF: not in Chromium's media stack
    response = imported.server.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "audio/flac"
    assert response.content[:4] == b"fLaC"
    part = imported.server.get(url, headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"fLaC"


# --- PUT /files/{id}/passages: every rule ----------------------------------------------------------


def _rules(file: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]], str]]:
    p = file["passages"]
    a, b, c = (dict(x) for x in as_edits(file))
    end = file["duration_ticks"]
    five = seconds_to_ticks(5.0)
    return [
        ("empty", [], "at least one passage"),
        ("reversed", [a, b, {**c, "end_ticks": c["start_ticks"] - 1}], "ends before it starts"),
        ("too short", [a, b, {**c, "end_ticks": c["start_ticks"] + five - 1}], "shorter than the minimum"),
        ("past the end", [a, b, {**c, "end_ticks": end + 1}], "ends after the end of the file"),
        ("overlap", [a, {**b, "start_ticks": a["end_ticks"] - 1}, c], "overlaps passage 1"),
        ("order", [b, a, c], "not in time order"),
        ("lead-in outside", [{**a, "lead_in_start_ticks": a["end_ticks"] + 1}, b, c], "lead-in point is outside"),
        ("lead-out outside", [a, {**b, "lead_out_start_ticks": b["start_ticks"] - 1}, c], "lead-out point is outside"),
        (
            "lead-out first",
            [
                {**a, "lead_in_start_ticks": a["start_ticks"] + 2 * T, "lead_out_start_ticks": a["start_ticks"] + T},
                b,
                c,
            ],
            "lead-out point is before the lead-in point",
        ),
        ("foreign id", [{**a, "id": "00000000-0000-4000-8000-000000000000"}, b, c], "is not a passage of this file"),
        ("twice", [a, {**b, "id": p[0]["id"]}, c], "listed twice"),
        ("bad mbid", [{**a, "recording_mbid": "not-an-mbid"}, b, c], "is not a MusicBrainz ID"),
        (
            "unknown recording",
            [{**a, "recording_mbid": "11111111-2222-4333-8444-555555555555"}, b, c],
            "is not known here",
        ),
    ]


def test_each_rule_refuses_with_its_message_and_saves_nothing(imported: Imported) -> None:
    file = detail(imported, "Mix")
    before = imported.passages("Mix")
    for name, passages, message in _rules(file):
        response = put(imported, "Mix", passages)
        assert response.status_code == 400, (name, response.text)
        body = response.json()
        assert body["error"] == "invalid_passages"
        assert any(message in e["message"] for e in body["errors"]), (name, body)
        assert imported.passages("Mix") == before, name


def test_several_problems_get_one_message_each(imported: Imported) -> None:
    file = detail(imported, "Mix")
    a, b, c = as_edits(file)
    body = put(imported, "Mix", [{**a, "end_ticks": 0}, {**b, "end_ticks": file["duration_ticks"] + 5}, c]).json()
    assert len(body["errors"]) >= 3  # passage 1 reversed; passage 2 past the end and overlapping passage 3
    assert {e["index"] for e in body["errors"]} == {0, 1, 2}


@pytest.mark.parametrize(
    "body",
    [
        {"passages": [{"start_ticks": True, "end_ticks": 5}]},
        {"passages": [{"start_ticks": -1, "end_ticks": 5}]},
        {"passages": [{"start_ticks": 0, "end_ticks": 5.5}]},
        {"passages": [{"start_ticks": 0, "end_ticks": 10**30}]},
        {"passages": [{"start_ticks": 0, "end_ticks": 5, "colour": "red"}]},
        {"passages": [{"start_ticks": 0, "end_ticks": 5, "id": "../etc"}]},
        {"passages": "all of them"},
        {},
    ],
)
def test_malformed_bodies_are_400(imported: Imported, body: dict[str, Any]) -> None:
    before = imported.passages("Mix")
    response = imported.server.client.put(f"/files/{imported.ids['Mix']}/passages", json=body)
    assert response.status_code == 400
    assert imported.passages("Mix") == before


def test_the_album_passage_is_not_edited_here(imported: Imported) -> None:
    file = detail(imported, "Mix")
    with sqlite3.connect(imported.db_path) as conn:
        conn.execute(
            "INSERT INTO passages(guid, file_id, start_time_ticks, end_time_ticks, import_metadata) "
            "VALUES ('album-passage-1', ?, 0, ?, '{\"album_passage\": true}')",
            (imported.ids["Mix"], file["duration_ticks"]),
        )
    try:
        a, b, c = as_edits(file)
        body = put(imported, "Mix", [{**a, "id": "album-passage-1"}, b, c]).json()
        assert "album passage" in body["message"]
        assert detail(imported, "Mix")["album_passage"]["id"] == "album-passage-1"
    finally:
        with sqlite3.connect(imported.db_path) as conn:
            conn.execute("DELETE FROM passages WHERE guid = 'album-passage-1'")


def test_unknown_file_is_404(imported: Imported) -> None:
    response = imported.server.client.put(
        "/files/00000000-0000-4000-8000-000000000000/passages", json={"passages": [{"start_ticks": 0, "end_ticks": T}]}
    )
    assert response.status_code == 404


# --- PUT: what a good edit does ---------------------------------------------------------------------


def test_moving_a_boundary_keeps_ids_and_reanalyses_what_moved(imported: Imported) -> None:
    file = detail(imported, "Album")
    a, b, c = as_edits(file)
    moved = a["end_ticks"] - seconds_to_ticks(0.5)  # half a second earlier, still in the silence
    response = put(imported, "Album", [{**a, "end_ticks": moved}, {**b, "start_ticks": moved}, c])
    assert response.status_code == 200, response.text
    after = response.json()["passages"]
    assert [p["id"] for p in after] == [a["id"], b["id"], c["id"]]
    assert after[0]["end_ticks"] == moved and after[1]["start_ticks"] == moved
    assert [p["manually_adjusted"] for p in after] == [True, True, False]
    assert [p["boundary_source"] for p in after] == ["user", "user", "silence"]
    assert after[2] == file["passages"][2]  # untouched
    song = imported.files["Album"].songs[1]
    assert abs(after[1]["lead_in_start_ticks"] / T - song[0]) < 0.5  # measured again on the new range
    rows = {r[0]: r for r in imported.passages("Album")}
    assert rows[a["id"]][2] == moved and json.loads(rows[a["id"]][5])["manually_adjusted"] is True
    assert imported.rows("SELECT count(*) FROM wkmp_ai_file_edits WHERE file_id = ?", imported.ids["Album"]) == [(1,)]
    edited = {f["path"] for f in imported.server.get("/files", params={"filter": "edited"}).json()["files"]}
    assert imported.files["Album"].rel_path in edited


def test_splitting_a_single_song_file_gives_two_passages(imported: Imported) -> None:
    file = detail(imported, "Split")
    (only,) = as_edits(file)
    cut = seconds_to_ticks(0.5 + SONG_S)
    response = put(
        imported, "Split", [{**only, "end_ticks": cut}, {"start_ticks": cut, "end_ticks": only["end_ticks"]}]
    )
    assert response.status_code == 200, response.text
    passages = response.json()["passages"]
    assert len(passages) == 2 and passages[0]["id"] == only["id"] and passages[1]["id"] != only["id"]
    assert passages[1]["manually_adjusted"] is True and passages[1]["boundary_source"] == "user"
    assert passages[1]["title"] == file["passages"][0]["title"]  # a split's halves keep the text of the whole
    rows = imported.passages("Split")
    assert [(r[1], r[2]) for r in rows] == [(0, cut), (cut, only["end_ticks"])]
    request = json.loads(
        imported.rows("SELECT request FROM wkmp_ai_identify_files WHERE file_id = ?", imported.ids["Split"])[0][0]
    )
    assert {p["passage_id"] for p in request["passages"]} == {p["id"] for p in passages}  # both re-identified
    assert all(p["fingerprint"] for p in request["passages"])  # fingerprinted again


def test_reimport_keeps_the_edit(imported: Imported) -> None:
    file = detail(imported, "Reimport")
    a, b = as_edits(file)
    cut = a["end_ticks"] - seconds_to_ticks(0.25)
    assert put(imported, "Reimport", [{**a, "end_ticks": cut}, {**b, "start_ticks": cut}]).status_code == 200
    edited = imported.passages("Reimport")
    status = imported.reimport("Reimport")  # unchanged on disk: nothing to redo
    assert status["state"] == "COMPLETED"
    assert imported.passages("Reimport") == edited
    # The file changes on disk (different audio, same name): analysed again, but the edit stays.
    track = imported.files["Reimport"]
    sr = track.sample_rate
    write_audio(
        track.path,
        concat(
            silence(0.5, sr=sr),
            music_like(SONG_S, sr=sr, seed=99),
            silence(2.0, sr=sr),
            music_like(SONG_S, sr=sr, seed=98),
            silence(0.5, sr=sr),
        ),
        sr=sr,
        fmt="flac",
    )
    status = imported.reimport("Reimport")
    assert status["state"] == "COMPLETED"
    assert [(r[0], r[1], r[2]) for r in imported.passages("Reimport")] == [(r[0], r[1], r[2]) for r in edited]
    assert any(e["error_code"] == "MANUAL_EDIT_KEPT" for e in status["errors"]), status["errors"]
    assert detail(imported, "Reimport")["changed_on_disk"] is True


# --- releases -----------------------------------------------------------------------------------


def _release(imported: Imported, title: str) -> Any:
    return next(r for r in imported.world.releases.values() if r.title == title)


def test_candidates_come_with_their_track_lists(imported: Imported) -> None:
    imported.offer_releases("Mix")
    assert "low_confidence" in detail(imported, "Mix") and detail(imported, "Mix")["low_confidence"] is True
    body = imported.server.get(f"/files/{imported.ids['Mix']}/releases").json()
    titles = [r["title"] for r in body["releases"]]
    assert titles == ["Wrong Album", "Right Album"]  # best first
    right = body["releases"][1]
    assert right["score"] == pytest.approx(0.55) and right["chosen"] is False and right["track_count"] == 3
    assert [t["title"] for t in right["tracks"]] == ["Right Song 1", "Right Song 2", "Right Song 3"]
    assert [t["recording_mbid"] for t in right["tracks"]] == [
        t.recording.mbid for t in _release(imported, "Right Album").media[0].tracks
    ]
    before = imported.fakes.musicbrainz.count()
    imported.server.get(f"/files/{imported.ids['Mix']}/releases")
    assert imported.fakes.musicbrainz.count() == before  # the track lists are cached


def test_choosing_a_release_pairs_the_passages_with_its_tracks(imported: Imported) -> None:
    imported.offer_releases("Mix")
    right = _release(imported, "Right Album")
    response = imported.server.post(f"/files/{imported.ids['Mix']}/release", json={"release_mbid": right.mbid})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["files"] == [
        {"file_id": imported.ids["Mix"], "path": imported.files["Mix"].rel_path, "paired": 3, "unpaired": 0}
    ]
    passages = body["file"]["passages"]
    assert [p["recording_mbid"] for p in passages] == [t.recording.mbid for t in right.media[0].tracks]
    assert [p["title"] for p in passages] == ["Right Song 1", "Right Song 2", "Right Song 3"]
    assert all(p["identification"]["method"] == "user-release" and p["release_mbid"] == right.mbid for p in passages)
    assert body["file"]["albums"] == [{"release_mbid": right.mbid, "title": "Right Album"}]
    assert body["file"]["status"] == "identified" and body["file"]["low_confidence"] is False
    chosen = imported.rows(
        "SELECT release_mbid FROM wkmp_ai_release_candidates WHERE file_id = ? AND chosen = 1", imported.ids["Mix"]
    )
    assert chosen == [(right.mbid,)]
    linked = imported.rows(
        "SELECT s.recording_mbid FROM passages p JOIN passage_songs ps ON ps.passage_id = p.guid "
        "JOIN songs s ON s.guid = ps.song_id WHERE p.file_id = ? ORDER BY p.start_time_ticks",
        imported.ids["Mix"],
    )
    assert [r[0] for r in linked] == [t.recording.mbid for t in right.media[0].tracks]


def test_assigning_one_recording_from_a_track_list(imported: Imported) -> None:
    imported.offer_releases("Mix")
    imported.server.get(f"/files/{imported.ids['Mix']}/releases")  # the track lists the user sees
    wrong_first = _release(imported, "Wrong Album").media[0].tracks[0].recording
    file = detail(imported, "Mix")
    edits = as_edits(file)
    edits[2]["recording_mbid"] = wrong_first.mbid
    response = put(imported, "Mix", edits)
    assert response.status_code == 200, response.text
    last = response.json()["passages"][2]
    assert last["recording_mbid"] == wrong_first.mbid and last["title"] == wrong_first.title
    assert last["identification"]["method"] == "user"
    assert [p["start_ticks"] for p in response.json()["passages"]] == [p["start_ticks"] for p in file["passages"]]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"release_mbid": "nope"}, 400),
        ({"release_mbid": "12345678-1234-4234-8234-123456789abc"}, 404),
        ({"release_mbid": "12345678-1234-4234-8234-123456789abc", "whole_folder": "yes"}, 400),
        ({}, 400),
    ],
)
def test_choosing_a_release_refuses_what_cannot_be(imported: Imported, body: dict[str, Any], status: int) -> None:
    before = imported.rows("SELECT * FROM wkmp_ai_identify_passages WHERE file_id = ?", imported.ids["Single"])
    response = imported.server.post(f"/files/{imported.ids['Single']}/release", json=body)
    assert response.status_code == status, response.text
    assert imported.rows("SELECT * FROM wkmp_ai_identify_passages WHERE file_id = ?", imported.ids["Single"]) == before


def test_a_file_nothing_is_known_of_is_searched_for(imported: Imported) -> None:
    attempts = "SELECT attempts FROM wkmp_ai_identify_files WHERE file_id = ?"
    (before,) = imported.rows(attempts, imported.ids["Odd"])
    body = imported.server.get(f"/files/{imported.ids['Odd']}/releases").json()
    assert body["searched"] is True and body["releases"] == []  # the fake world has no release for it
    assert imported.rows(attempts, imported.ids["Odd"]) == [(before[0] + 1,)]  # identified once more, now
    again = imported.server.get(f"/files/{imported.ids['Mix']}/releases").json()
    assert again["searched"] is False  # a file with candidates is not searched again
