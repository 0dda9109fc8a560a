"""The event log and the session state machine, without any import running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from wkmp_ai.errors import ErrorCode
from wkmp_ai.events import EventLog, EventType
from wkmp_ai.ingest.session import ImportSession, InvalidTransition, State


def make_session(tmp_path: Path) -> ImportSession:
    return ImportSession(root_folder=tmp_path, import_dir=tmp_path, parameters={})


async def test_ids_increase_and_since_replays_exactly_what_was_missed() -> None:
    log = EventLog(capacity=5)
    for i in range(3):
        log.publish(EventType.PROGRESS, {"n": i})
    events, lost = log.since(1)
    assert [e.id for e in events] == [2, 3] and not lost
    for i in range(5):
        log.publish(EventType.PROGRESS, {"n": i})
    events, lost = log.since(1)
    assert [e.id for e in events] == [4, 5, 6, 7, 8] and lost  # 2 and 3 fell out of the buffer
    assert log.since(8) == ([], False)


async def test_timestamps_are_iso_utc() -> None:
    event = EventLog().publish(EventType.PROGRESS, {})
    assert event.data["timestamp"].endswith("Z") and "T" in event.data["timestamp"]


async def test_followers_get_every_event_and_end_after_completed() -> None:
    log = EventLog()

    async def collect() -> list[int]:
        return [e.id async for e in log.follow(0, wait_s=5) if e is not None]

    followers = [asyncio.create_task(collect()) for _ in range(100)]
    await asyncio.sleep(0)
    for i in range(50):
        log.publish(EventType.PROGRESS, {"n": i})
        if i % 10 == 0:
            await asyncio.sleep(0)
    log.publish(EventType.COMPLETED, {})
    results = await asyncio.wait_for(asyncio.gather(*followers), 5)
    assert all(r == list(range(1, 52)) for r in results)


async def test_follow_yields_keepalive_none_while_idle() -> None:
    log = EventLog()
    stream = log.follow(0, wait_s=0.05)
    assert await asyncio.wait_for(anext(stream), 1) is None
    log.publish(EventType.PROGRESS, {})
    assert (await asyncio.wait_for(anext(stream), 1)).id == 1  # type: ignore[union-attr]


async def test_state_machine(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    assert session.state is State.SCANNING
    session.transition(State.PROCESSING)
    with pytest.raises(InvalidTransition):
        session.transition(State.SCANNING)
    session.transition(State.COMPLETED)
    with pytest.raises(InvalidTransition):
        session.transition(State.CANCELLED)
    types = [e.type for e in session.events.all()]
    assert types == [EventType.STATE_CHANGED, EventType.STATE_CHANGED, EventType.STATE_CHANGED, EventType.COMPLETED]
    assert session.events.closed


@pytest.mark.parametrize("end", [State.COMPLETED, State.CANCELLED, State.FAILED])
async def test_scanning_may_end_directly(tmp_path: Path, end: State) -> None:
    session = make_session(tmp_path)
    session.transition(end)
    assert session.finished_at and session.status()["state"] == end.value


async def test_counters_progress_and_errors(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    session.total = 4
    session.transition(State.PROCESSING)
    session.file_started(0, "a.flac")
    session.file_started(1, "b.flac")
    assert session.progress()["current_files"] == ["a.flac", "b.flac"]
    session.file_analysed(0, "a.flac")
    session.file_finished(ok=True, passages=3)
    session.file_started(0, "c.flac")  # worker 0 takes its next file before b.flac's worker is done
    session.file_analysed(1, "b.flac")
    session.record_error(ErrorCode.DECODE_ERROR, "Failed to decode audio", path="b.flac")
    session.file_finished(ok=False)
    session.file_analysed(1, "b.flac")  # said twice: worker 1 holds nothing, worker 0 keeps c.flac
    assert session.progress()["current_files"] == ["c.flac"]
    session.file_analysed(0, "c.flac")
    session.record_error(ErrorCode.MISSING_ALBUM_ART, "no art", path="c.flac")
    session.file_finished(ok=True, warned=True, passages=1)
    assert session.progress()["current_files"] == []
    progress = session.progress()
    assert (progress["current"], progress["total"], progress["percentage"]) == (3, 4, 75.0)
    assert progress["files_per_second"] > 0 and progress["estimated_remaining_seconds"] is not None
    status = session.status()
    assert [e["error_code"] for e in status["errors"]] == ["DECODE_ERROR", "MISSING_ALBUM_ART"]
    assert [e["error_label"] for e in status["errors"]] == ["Cannot be decoded", "No cover art"]
    assert status["errors"][0]["severity"] == "skip_file" and status["errors"][0]["file_path"] == "b.flac"
    session.transition(State.COMPLETED)
    summary = session.summary()
    assert summary["files_processed"] == 2 and summary["files_failed"] == 1 and summary["passages_created"] == 4
    assert summary["error_summary"] == {"DECODE_ERROR": 1, "MISSING_ALBUM_ART": 1}
    completed = session.events.all()[-1]
    assert completed.type is EventType.COMPLETED and completed.data["files_failed"] == 1


async def test_critical_error_is_reported_in_status(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    session.record_error(ErrorCode.DATABASE_ERROR, "disk I/O error")
    session.transition(State.FAILED)
    assert session.status()["error"]["code"] == "DATABASE_ERROR"


def test_a_recorded_error_is_logged_in_plain_words_with_its_code_beside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    session = make_session(tmp_path)
    with caplog.at_level("WARNING", logger="wkmp_ai.ingest.session"):
        session.record_error(
            ErrorCode.MUSICBRAINZ_NETWORK_ERROR, "MusicBrainz: could not connect", path="A/01 One.flac"
        )
        session.record_error(ErrorCode.ACOUSTID_NO_API_KEY, "no AcoustID API key")
        session.record_error(ErrorCode.DATABASE_ERROR, "disk I/O error")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "MusicBrainz not reachable (MUSICBRAINZ_NETWORK_ERROR): A/01 One.flac: MusicBrainz: could not connect",
        ),
        ("WARNING", "No AcoustID key (ACOUSTID_NO_API_KEY): no AcoustID API key"),
        ("ERROR", f"{ErrorCode.DATABASE_ERROR.label} (DATABASE_ERROR): disk I/O error"),
    ]
