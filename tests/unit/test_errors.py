"""Error codes and the one exception type."""

import pickle

from wkmp_ai.errors import ErrorCode, IngestError, Severity


def test_severities() -> None:
    assert ErrorCode.DECODE_ERROR.severity is Severity.SKIP_FILE
    assert ErrorCode.ANALYSIS_TIMEOUT.severity is Severity.SKIP_FILE
    assert ErrorCode.MISSING_ALBUM_ART.severity is Severity.WARNING
    assert ErrorCode.DATABASE_ERROR.severity is Severity.CRITICAL
    assert ErrorCode.DISK_FULL.severity is Severity.CRITICAL


def test_ingest_error_survives_pickling_between_processes() -> None:
    error = IngestError(ErrorCode.DECODE_ERROR, "no audio", path="a/b.flac", stage="decode")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.detail, copy.path, copy.stage) == (ErrorCode.DECODE_ERROR, "no audio", "a/b.flac", "decode")
    assert str(copy) == str(error)
