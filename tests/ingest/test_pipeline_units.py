"""Small decisions of the pipeline: worker count, timeouts, how a worker's failure is reported."""

from __future__ import annotations

import os

import pytest

from wkmp_ai import params as P
from wkmp_ai.errors import ErrorCode, IngestError, Severity
from wkmp_ai.ingest.pipeline import _analysis_failure, analysis_timeout, worker_count
from wkmp_ai.ingest.workers import TaskCrashed, TaskTimedOut


def test_worker_count_never_exceeds_the_cores() -> None:
    cores = os.cpu_count() or 1
    assert worker_count({**P.defaults(), "import_parallelism": 16}) == cores
    assert worker_count({**P.defaults(), "import_parallelism": 1}) == 1


def test_analysis_timeout_grows_with_duration() -> None:
    assert analysis_timeout(None) == 600.0
    assert analysis_timeout(180.0) == pytest.approx(48.0)
    assert analysis_timeout(7200.0) == pytest.approx(750.0)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (TaskCrashed(-11), ErrorCode.DECODE_ERROR),
        (TaskTimedOut(48.0), ErrorCode.ANALYSIS_TIMEOUT),
        (IngestError(ErrorCode.DECODE_ERROR, "no audio"), ErrorCode.DECODE_ERROR),
        (IngestError(ErrorCode.FILE_UNREADABLE, "gone"), ErrorCode.FILE_UNREADABLE),
        (MemoryError("too big"), ErrorCode.ANALYSIS_FAILED),
    ],
)
def test_worker_failures_become_skip_file_errors(exc: BaseException, code: ErrorCode) -> None:
    got, message = _analysis_failure(exc)
    assert got is code and got.severity is Severity.SKIP_FILE
    assert message
