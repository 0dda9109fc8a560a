"""``analyze_file`` as the import session will use it: in worker processes, from several threads,
with a small picklable result whose ticks satisfy the passages table's CHECKs in a real wkmp.db."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import pytest

from tests.audio.conftest import three_songs
from tests.synth import concat, fade, music_like, silence, tone, write_audio
from wkmp_ai.audio.analyze import AMPLITUDE_KEYS, analyze_file
from wkmp_ai.db import Database
from wkmp_ai.records.analysis import FileAnalysis, PassageAnalysis, lead_ticks
from wkmp_ai.ticks import seconds_to_ticks

SR = 44100
PASSAGE_KEYS = {
    "start_s",
    "end_s",
    "start_ticks",
    "end_ticks",
    "lead_in_s",
    "lead_out_s",
    "lead_in_start_ticks",
    "lead_out_start_ticks",
    "peak_rms",
    "quick_ramp_up",
    "quick_ramp_down",
    "fingerprint",
    "fingerprint_duration_s",
    "flavor",
}


@pytest.fixture(scope="module")
def songs_path(audio_dir: Path) -> Path:
    return write_audio(audio_dir / "songs.flac", three_songs(SR), sr=SR, fmt="flac")


def _comparable(result: FileAnalysis) -> list[dict]:
    return [p.to_json() for p in result.passages]


def test_result_is_small_picklable_and_shaped_for_the_cli(songs_path: Path) -> None:
    result = analyze_file(songs_path, {}, flavor=True)
    blob = pickle.dumps(result)
    assert len(blob) < 100_000
    assert pickle.loads(blob) == result
    line = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert set(line) == {
        "path",
        "format",
        "codec",
        "sample_rate",
        "channels",
        "duration_s",
        "passages",
        "warnings",
        "boundary_source",
    }
    assert line["boundary_source"] == "silence"  # no cue sheet beside it (docs/cue.md)
    assert (line["format"], line["sample_rate"], line["channels"], line["duration_s"]) == ("flac", SR, 2, 24.0)
    for passage in line["passages"]:
        assert set(passage) == PASSAGE_KEYS
    assert {f.name for f in fields(PassageAnalysis)} >= PASSAGE_KEYS | {"fingerprint_raw", "import_metadata"}


def test_ticks_come_from_the_one_helper(songs_path: Path) -> None:
    for p in analyze_file(songs_path, {}, flavor=False).passages:
        assert p.start_ticks == seconds_to_ticks(p.start_s) and p.end_ticks == seconds_to_ticks(p.end_s)
        assert p.lead_in_start_ticks == p.start_ticks + seconds_to_ticks(p.lead_in_s)
        assert p.lead_out_start_ticks == p.end_ticks - seconds_to_ticks(p.lead_out_s)
    assert lead_ticks(0, 100, 5.0, 5.0) == (100, 100)  # clamped into [start, end], in order
    assert lead_ticks(0, 100, None, None) == (None, None)


def test_import_metadata_records_what_was_used(songs_path: Path) -> None:
    params = {"lead_in_threshold_db": -10.0, "rms_window_ms": 50}
    passage = analyze_file(songs_path, params, flavor=False).passages[1]
    amp = passage.import_metadata["amplitude_analysis"]
    assert amp["parameters_used"]["lead_in_threshold_db"] == -10.0
    assert amp["parameters_used"]["rms_window_ms"] == 50
    assert set(amp["parameters_used"]) == set(AMPLITUDE_KEYS)
    assert amp["lead_in_detected_s"] == passage.lead_in_s and amp["peak_rms"] == passage.peak_rms
    assert amp["analyzed_at"].endswith("Z") and amp["window_hops"] == 5
    seg = passage.import_metadata["segmentation"]
    assert (seg["passage_index"], seg["passage_count"]) == (1, 3)
    assert seg["parameters_used"]["silence_threshold_db"] == -60.0
    assert passage.import_metadata["fingerprint"]["items"] == len(passage.fingerprint_raw)


def test_bad_parameters_are_refused(songs_path: Path) -> None:
    from wkmp_ai.params import ParameterError

    with pytest.raises(ParameterError) as info:
        analyze_file(songs_path, {"rms_window_ms": 5, "silence_threshold_db": 3.0}, flavor=False)
    assert set(info.value.errors) == {"rms_window_ms", "silence_threshold_db"}


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_worker_processes_give_the_same_answer(method: str, songs_path: Path) -> None:
    here = analyze_file(songs_path, {}, flavor=True)
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        there = pool.submit(analyze_file, songs_path, {}, flavor=True).result(timeout=120)
    assert _comparable(there) == _comparable(here)


def test_threads_share_the_chromaprint_library_safely(audio_dir: Path) -> None:
    paths = [
        write_audio(audio_dir / f"t{i}.wav", music_like(15.0, sr=SR, seed=40 + i), sr=SR, fmt="wav") for i in range(4)
    ]
    alone = [analyze_file(p, {}, flavor=False).passages[0].fingerprint for p in paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda p: analyze_file(p, {}, flavor=False).passages[0].fingerprint, paths))
    assert together == alone and len(set(alone)) == 4


def test_every_result_fits_the_passages_table(db: Database, audio_dir: Path) -> None:
    """Insert what the analysis gives for awkward files into a real wkmp.db: no CHECK may fire."""
    signals = {
        "songs": three_songs(SR),
        "fades": fade(tone(12.0, sr=SR), sr=SR, fade_in_s=5.0, fade_out_s=5.0, shape="db"),
        "short": music_like(0.3, sr=SR),
        "quiet": tone(6.0, sr=SR, amplitude=0.01),
        "silence": silence(3.0, sr=SR),
        "clicks": concat(*[concat(tone(0.05, sr=SR), silence(0.6, sr=SR)) for _ in range(20)]),
    }
    with db.write() as conn:
        for name, signal in signals.items():
            path = write_audio(audio_dir / f"db-{name}.flac", signal, sr=SR, fmt="flac")
            result = analyze_file(path, {}, flavor=True)
            file_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO files (guid, path, hash, duration, modification_time) VALUES (?, ?, ?, ?, ?)",
                (file_id, f"{name}.flac", "0" * 64, result.duration_s, "2026-01-01 00:00:00"),
            )
            for p in result.passages:
                conn.execute(
                    "INSERT INTO passages (guid, file_id, start_time_ticks, lead_in_start_ticks, "
                    "lead_out_start_ticks, end_time_ticks, musical_flavor_vector, import_metadata) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(uuid.uuid4()),
                        file_id,
                        p.start_ticks,
                        p.lead_in_start_ticks,
                        p.lead_out_start_ticks,
                        p.end_ticks,
                        json.dumps(p.flavor["vector"]) if p.flavor else None,
                        json.dumps(p.import_metadata, allow_nan=False),
                    ),
                )
    with db.read() as conn:
        count = conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    assert count >= len(signals)


def test_public_surface() -> None:
    import wkmp_ai.audio as audio

    assert audio.__all__ == sorted(audio.__all__)
    for name in audio.__all__:
        assert getattr(audio, name) is not None
    assert audio.analyze_file is analyze_file
