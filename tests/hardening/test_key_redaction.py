"""The AcoustID key never leaves the process (issue 16, finding 4; docs/design.md, *Security*).

AcoustID's error documents may repeat the request's parameters, the client key among them. An
import against a fake AcoustID whose every answer is such a document must not show the key in its
``--json`` summary, its log, the database (``wkmp_ai_identify_passages.detail`` above all), or
the service's own answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.fakes import API_KEY, FakeServices, FaultKind, Rates, World
from tests.hardening.procs import serve, start_import, stop, wait_state
from tests.ingest.library import make_album

pytestmark = pytest.mark.slow


def echoing_error(code: int, status: int) -> dict[str, object]:
    # What a server that quotes its input does: the key, whole and inside a longer message.
    message = f"invalid fingerprint in request client={API_KEY}&format=json&batch=1; key {API_KEY} is rate-limited"
    return {"kind": FaultKind.STATUS, "status": status, "times": 1000, "match": "/v2/lookup", "body": json.dumps(
        {"status": "error", "error": {"code": code, "message": message}}
    ).encode()}  # fmt: skip


def everything_written(root: Path) -> bytes:
    """Every byte of the database (main file, WAL) and of the files the import created."""
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file() and p.suffix not in {".flac"})


@pytest.mark.parametrize(("code", "status"), [(3, 400), (5, 500)], ids=["rejected", "transient"])
def test_the_key_in_an_error_document_goes_nowhere(tmp_path: Path, code: int, status: int) -> None:
    root = tmp_path / "music"
    make_album(root, "Album", 3, seconds=3.0)
    with FakeServices(World(), rates=Rates.fast(100.0), tolerance=0.9) as fakes:
        fakes.acoustid.inject(**echoing_error(code, status))
        proc = start_import(root, tmp_path, fakes.settings_changes(), verbose=True)  # debug log: all is checked
        try:
            out, err = proc.communicate(timeout=120)
        finally:
            stop(proc)
        assert fakes.acoustid.count("/v2/lookup") >= 1  # the document was served
        assert proc.returncode == 0, err
    json.loads(out)  # the summary is whole
    assert f"AcoustID error {code}" in err  # the document was read and logged, the key redacted:
    assert code != 3 or "***" in err
    assert API_KEY not in out
    assert API_KEY not in err
    assert API_KEY.encode() not in everything_written(root)


def test_the_key_does_not_reach_the_api_or_its_log(tmp_path: Path) -> None:
    root = tmp_path / "music"
    make_album(root, "Album", 2, seconds=3.0)
    with FakeServices(World(), rates=Rates.fast(100.0), tolerance=0.9) as fakes:
        fakes.acoustid.inject(**echoing_error(3, 400))
        with serve(root, tmp_path, fakes.settings_changes(), verbose=True) as served:
            session_id = served.start_import()
            status = wait_state(served, session_id, lambda s: s["state"] in {"COMPLETED", "FAILED", "CANCELLED"})
            events = httpx.get(served.url + "/events", params={"session_id": session_id}, timeout=10).text
            served.proc.terminate()
            served.proc.wait(timeout=10)
            log = served.log()
    assert status["state"] == "COMPLETED"
    assert "AcoustID error 3: invalid fingerprint in request client=***" in log  # read, logged, redacted
    assert API_KEY not in json.dumps(status)
    assert API_KEY not in events
    assert API_KEY not in log
    assert API_KEY.encode() not in everything_written(root)


@pytest.mark.parametrize("offset", [0, 150, 170, 180, 3990])
async def test_no_piece_of_the_key_survives_a_cut_message(offset: int) -> None:
    """The key at any place of a long error message: redacted before the message is shortened."""
    from wkmp_ai.identify.acoustid import AcoustIDClient
    from wkmp_ai.identify.http import RetryPolicy, ServiceClient

    key = "Zq8vW1xKp4Ty7Rn2"
    message = "x" * offset + key + " and again " + key + "y" * 500
    body = json.dumps({"status": "error", "error": {"code": 3, "message": message}}).encode()
    with FakeServices(World(), rates=Rates.fast(100.0), tolerance=0.9) as fakes:
        fakes.acoustid.inject(**echoing_error(3, 400) | {"body": body})
        http = ServiceClient(
            "acoustid", fakes.acoustid.url, rate=100.0, user_agent="wkmp-ai/test", secret=key,
            retry=RetryPolicy(attempts=1),
        )  # fmt: skip
        client = AcoustIDClient(http, key, linger_s=0.0)
        try:
            answers = await client.lookup_many([("AQAAfake", 200)])
        finally:
            await client.aclose()
            await http.aclose()
    error = answers[("AQAAfake", 200)]
    assert isinstance(error, Exception)
    text = f"{error} {getattr(error, 'detail', '')}"
    assert "AcoustID error 3" in text
    pieces = {key[i : i + 4] for i in range(len(key) - 3)}
    assert not [p for p in pieces if p in text], text
