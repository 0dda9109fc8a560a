"""Error codes, their severities, and the one exception type that carries them.

Every failure the import can meet has a code here (DECISIONS.md #7). Severity decides what the
session does with it:

- ``SKIP_FILE``: the file gets no passages and counts as failed; the session goes on.
- ``WARNING``: the file keeps its passages and local analysis; the warning is reported.
- ``CRITICAL``: the session stops in FAILED; work already committed is kept.

Foreign exceptions are translated into :class:`IngestError` once, at the boundary where they are
raised (``raise IngestError(...) from exc``), so callers never catch library errors.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

__all__ = ["ErrorCode", "IngestError", "Severity", "plain_message"]


class Severity(StrEnum):
    SKIP_FILE = "skip_file"
    WARNING = "warning"
    CRITICAL = "critical"


class ErrorCode(StrEnum):
    # Skip file
    DECODE_ERROR = "DECODE_ERROR"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    ANALYSIS_FAILED = "ANALYSIS_FAILED"  # the analysis raised an unexpected error: the file is skipped
    ANALYSIS_TIMEOUT = "ANALYSIS_TIMEOUT"
    FILE_UNREADABLE = "FILE_UNREADABLE"
    FILE_NAME_NOT_UTF8 = "FILE_NAME_NOT_UTF8"
    # Warnings: the file keeps its passages
    MISSING_ALBUM_ART = "MISSING_ALBUM_ART"
    ACOUSTICBRAINZ_NO_DATA = "ACOUSTICBRAINZ_NO_DATA"
    ACOUSTID_NO_MATCH = "ACOUSTID_NO_MATCH"
    ACOUSTID_NO_API_KEY = "ACOUSTID_NO_API_KEY"
    MBID_LOOKUP_FAILED = "MBID_LOOKUP_FAILED"
    FINGERPRINT_FAILED = "FINGERPRINT_FAILED"
    ACOUSTID_NETWORK_ERROR = "ACOUSTID_NETWORK_ERROR"
    MUSICBRAINZ_NETWORK_ERROR = "MUSICBRAINZ_NETWORK_ERROR"
    ACOUSTICBRAINZ_NETWORK_ERROR = "ACOUSTICBRAINZ_NETWORK_ERROR"
    COVERART_NETWORK_ERROR = "COVERART_NETWORK_ERROR"
    ACOUSTID_RATE_LIMIT = "ACOUSTID_RATE_LIMIT"
    MUSICBRAINZ_RATE_LIMIT = "MUSICBRAINZ_RATE_LIMIT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    IDENTIFIED_BY_TAGS = "IDENTIFIED_BY_TAGS"  # no fingerprint evidence: a MusicBrainz search on tags/names
    IDENTIFY_LOW_CONFIDENCE = "IDENTIFY_LOW_CONFIDENCE"  # search candidates kept, none chosen
    MUSICBRAINZ_SEARCH_NO_MATCH = "MUSICBRAINZ_SEARCH_NO_MATCH"
    PARTIAL_DECODE = "PARTIAL_DECODE"
    QUIET_PASSAGE = "QUIET_PASSAGE"
    CLIPPING_DETECTED = "CLIPPING_DETECTED"
    FLAVOR_FAILED = "FLAVOR_FAILED"
    TAG_READ_ERROR = "TAG_READ_ERROR"
    COVER_ART_INVALID = "COVER_ART_INVALID"
    DUPLICATE_CONTENT = "DUPLICATE_CONTENT"
    MANUAL_EDIT_KEPT = "MANUAL_EDIT_KEPT"  # the file changed on disk; the passages a person edited are kept
    NOT_AUDIO = "NOT_AUDIO"  # a file named like audio (.mp3, .flac, ...) whose content is not audio
    PATH_OUTSIDE_ROOT = "PATH_OUTSIDE_ROOT"
    SYMLINK_LOOP = "SYMLINK_LOOP"
    DIRECTORY_UNREADABLE = "DIRECTORY_UNREADABLE"
    # Critical: the session fails
    DATABASE_ERROR = "DATABASE_ERROR"
    DISK_FULL = "DISK_FULL"
    INTERNAL_ERROR = "INTERNAL_ERROR"

    @property
    def severity(self) -> Severity:
        return _SEVERITY.get(self, Severity.WARNING)


_SEVERITY: dict[ErrorCode, Severity] = {
    ErrorCode.DECODE_ERROR: Severity.SKIP_FILE,
    ErrorCode.UNSUPPORTED_FORMAT: Severity.SKIP_FILE,
    ErrorCode.ANALYSIS_FAILED: Severity.SKIP_FILE,
    ErrorCode.ANALYSIS_TIMEOUT: Severity.SKIP_FILE,
    ErrorCode.FILE_UNREADABLE: Severity.SKIP_FILE,
    ErrorCode.FILE_NAME_NOT_UTF8: Severity.SKIP_FILE,
    ErrorCode.DATABASE_ERROR: Severity.CRITICAL,
    ErrorCode.DISK_FULL: Severity.CRITICAL,
    ErrorCode.INTERNAL_ERROR: Severity.CRITICAL,
}


class IngestError(Exception):
    """A failure with a code, a human-readable detail, and where it happened."""

    def __init__(self, code: ErrorCode, detail: str, *, path: str | None = None, stage: str | None = None):
        super().__init__(f"{code}: {detail}" + (f" ({path})" if path else ""))
        self.code = code
        self.detail = detail
        self.path = path
        self.stage = stage

    @property
    def severity(self) -> Severity:
        return self.code.severity

    def __reduce__(self) -> tuple[Any, ...]:
        # Travels between processes (worker → import) whole; the default would call __init__(message).
        return (_rebuild, (self.code, self.detail, self.path, self.stage))


def _rebuild(code: ErrorCode, detail: str, path: str | None, stage: str | None) -> IngestError:
    return IngestError(code, detail, path=path, stage=stage)


_REPR = re.compile(r"\s*<[\w.]+ object at 0x[0-9a-fA-F]+>")
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
_PLAIN = {
    "UnidentifiedImageError": "not an image format that can be read",
    "Truncated File Read": "the image is cut short or damaged",
    "image file is truncated": "the image is cut short or damaged",
}


def plain_message(exc: BaseException) -> str:
    """A foreign exception's message in plain words, for a user: no ``[Errno N]``, no
    ``<_io.BytesIO object at 0x…>`` (what PIL, mutagen and FFmpeg put in their messages)."""
    name = type(exc).__name__
    if name in _PLAIN:
        return _PLAIN[name]
    text = getattr(exc, "strerror", None) or str(exc)
    text = _ERRNO.sub("", _REPR.sub("", str(text))).strip(" :")
    for raw, plain in _PLAIN.items():
        if text.startswith(raw):
            return plain
    return text or name
