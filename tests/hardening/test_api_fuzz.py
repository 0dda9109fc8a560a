"""API fuzzing (issue 16, standing test): schemathesis drives every operation of the OpenAPI schema a
live server publishes, with valid and invalid inputs (wrong types, missing and extra fields, odd
strings and numbers), and the server never answers 500.

The server runs offline on a root holding one short audio file, so ``/analyze/amplitude`` can reach
the analysis and ``/import/start`` a real (quick) import.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.conftest import DEAD_URL, SERVICES, LiveServer, free_port, running_server
from tests.synth import tone, write_audio
from wkmp_ai.config import load_settings

pytestmark = pytest.mark.slow

EXAMPLES = 25  # per operation and generation mode
RAW_EXAMPLES = 120  # per operation, hostile JSON
STATUSES: Counter[int] = Counter()
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("apifuzz") / "music"
    (root / "Album").mkdir(parents=True)
    write_audio(root / "Album" / "one.wav", tone(1.0), sr=44100, fmt="wav")
    urls = {f"{name}_url": DEAD_URL for name in SERVICES}
    settings = load_settings({"root_folder": root, "port": free_port(), **urls}, env={})
    settings = replace(settings, config_file=None)
    with running_server(settings) as server:
        yield server
    print(f"\nAPI fuzzing: {sum(STATUSES.values())} requests, statuses {dict(sorted(STATUSES.items()))}")
    print({k: round(v, 1) for k, v in TIMES.items()})


def operations(url: str) -> list[schemathesis.APIOperation]:
    config = schemathesis.Config()
    config.projects.default.generation.codec = None  # any code point, lone surrogates included
    # ``GET /events`` without a session follows every import and never ends: one event tells its status.
    config.projects.default.max_stream_events = 1
    schema = schemathesis.openapi.from_url(url + "/openapi.json", config=config)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_input_makes_the_server_fail(fuzz_server: LiveServer, mode: GenerationMode) -> None:
    # schemathesis' own pytest integration does not run under pytest 9; its strategies do, under Hypothesis.
    ops = operations(fuzz_server.url)
    assert {f"{op.method.upper()} {op.path}" for op in ops} >= {
        "POST /import/start",
        "POST /analyze/amplitude",
        "POST /parameters/global",
        "GET /events",
    }
    for op in ops:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,  # the same inputs every run; no example database
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=op.as_strategy(generation_mode=mode))
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=fuzz_server.url, timeout=30)
            STATUSES[response.status_code] += 1
            assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:500])
            if response.status_code >= 400:
                body = response.json()  # errors are JSON with a plain message
                assert isinstance(body, dict) and "error" in body, response.text[:300]

        started = time.monotonic()
        try:
            call()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing in this operation can be made invalid
        TIMES[f"{mode.value} {op.method.upper()} {op.path}"] = time.monotonic() - started
    assert fuzz_server.get("/health").status_code == 200


# Values the schema's types do not rule out but a server may trip on: lone surrogates, NUL, names
# longer than the file system allows, non-finite and enormous numbers (Python's JSON writes NaN and
# Infinity, and a JSON parser that accepts them hands them on), deep nesting.
NASTY_STRINGS = [
    "\udc80",
    "x\udcff.wav",
    "a" * 5000,
    "b" * 300,
    "a\x00b",
    "../../etc/passwd",
    "/dev/zero",
    "",
    "²",
    ".",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, 604_800.0, 604_801.0]),
    st.text(alphabet=st.characters(codec=None), max_size=40),
    st.sampled_from(NASTY_STRINGS),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def bodies(properties: dict[str, object]) -> st.SearchStrategy[object]:
    """JSON bodies for an operation: its own keys with hostile values, and stray keys."""
    keys = st.sampled_from(sorted(properties)) | st.sampled_from(NASTY_STRINGS) | st.text(max_size=12)
    return st.dictionaries(keys, values, max_size=5) | values


@pytest.mark.parametrize("path", ["/import/start", "/analyze/amplitude", "/parameters/global"])
def test_hostile_json_bodies_get_4xx(fuzz_server: LiveServer, path: str) -> None:
    spec = fuzz_server.get("/openapi.json").json()
    content = spec["paths"][path]["post"].get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    properties = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"] if ref else {}
    properties = properties | {"parameters": {}, "rms_window_ms": {}, "file_path": {}}

    @settings(max_examples=RAW_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(body=bodies(properties))
    def post(body: object) -> None:
        raw = json.dumps(body)  # NaN/Infinity as JavaScript writes them, surrogates as \\u escapes
        reply = fuzz_server.post(path, content=raw.encode(), headers={"content-type": "application/json"})
        STATUSES[reply.status_code] += 1
        assert reply.status_code < 500, (path, raw[:300], reply.text[:300])
        if reply.status_code == 202:  # an import started: let it finish before the next example
            fuzz_server.post(f"/import/cancel/{reply.json()['session_id']}")

    post()


def stream_status(server: LiveServer, **kw: Any) -> httpx.Response:
    """``GET /events`` read only when it is an error: without a session the stream follows every import
    and never ends."""
    with server.client.stream("GET", "/events", **kw) as reply:
        if reply.status_code != 200:
            reply.read()
        return reply


def test_hostile_ids_headers_and_queries_get_4xx(fuzz_server: LiveServer) -> None:
    odd = st.sampled_from(["9" * 5000, "²", "-1", "1.5", "0x10", "１２", " ", "%ED%B2%80", "..", "a" * 5000])
    texts = st.text(max_size=60) | odd  # for URLs: anything, quoted
    header_texts = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=60) | odd  # sendable

    @settings(max_examples=RAW_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(header=header_texts, value=texts, query=texts)
    def get(header: str, value: str, query: str) -> None:
        replies = [
            stream_status(fuzz_server, headers={"Last-Event-ID": header.strip().encode()}),
            stream_status(fuzz_server, params={"last_event_id": query}),
            fuzz_server.get(f"/import/status/{quote(value, safe='')}"),
            fuzz_server.post(f"/import/cancel/{quote(query, safe='')}"),
        ]
        for reply in replies:
            STATUSES[reply.status_code] += 1
            assert reply.status_code < 500, (value[:80], query[:80], reply.request.url, reply.text[:300])

    get()
