"""Error codes, their severities, and the one tree of exceptions that carries them.

Every failure the import can meet has a code here (docs/design.md, *Error codes*). Severity decides
what the session does with it:

- ``SKIP_FILE``: the file gets no passages and counts as failed; the session goes on.
- ``WARNING``: the file keeps its passages and local analysis; the warning is reported.
- ``CRITICAL``: the session stops in FAILED; work already committed is kept.

Every exception of ours derives from :class:`WkmpError`, which carries an :class:`ErrorCode` and a
detail in plain words::

    WkmpError                          code (class default INTERNAL_ERROR), detail
    ├── IngestError                    a failure of a file or the session: code, detail, path, stage
    ├── Refused                        the caller asked for what cannot be done; nothing changed
    │   ├── ParameterError             import parameters out of range (one message per key)
    │   ├── ConfigError                a setting that cannot be used
    │   └── SessionConflict            an import is already running      (wkmp_ai.ingest.manager)
    ├── ServiceError                   a web service failed              (wkmp_ai.identify.http)
    │   ├── ServiceUnavailable, NotFound, Rejected
    │   └── Transient                  an answer unusable, retry may help (inside identify.http)
    ├── ImageRefused                   downloaded bytes that are no image (wkmp_ai.identify.coverart)
    ├── ChromaprintError               libchromaprint missing or refusing  (wkmp_ai.audio.chromaprint)
    ├── TaskCrashed, TaskTimedOut, RemoteError   a worker process failed  (wkmp_ai.ingest.workers)
    └── InvalidTransition              a session state change the machine forbids (wkmp_ai.ingest.session)

Foreign exceptions are translated once, where they are raised (``raise IngestError(...) from
exc``); each edge translates ours once: the HTTP API in one exception handler
(:func:`wkmp_ai.api.app.create_app`: :func:`http_status` and the body ``{"error", "message"}``),
the command line in one place (:func:`wkmp_ai.cli.main`: :func:`exit_code`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "ErrorCode",
    "IngestError",
    "Refused",
    "Severity",
    "WkmpError",
    "error_label",
    "exit_code",
    "http_body",
    "http_status",
    "plain_message",
]


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
    CUE_SHEET_INVALID = "CUE_SHEET_INVALID"  # a cue sheet or track index that cannot be used: silences decide
    # Refused requests (HTTP 4xx, exit code 2): nothing was changed
    INVALID_REQUEST = "INVALID_REQUEST"
    # Critical: the session fails
    DATABASE_ERROR = "DATABASE_ERROR"
    DISK_FULL = "DISK_FULL"
    INTERNAL_ERROR = "INTERNAL_ERROR"

    @property
    def severity(self) -> Severity:
        return _SEVERITY.get(self, Severity.WARNING)

    @property
    def label(self) -> str:
        """What the code means in a few plain words, for people (the code itself is for programs)."""
        return _LABELS[self]


# Every code has one (a test checks): the progress page, the command line and the history show these.
_LABELS: dict[ErrorCode, str] = {
    ErrorCode.DECODE_ERROR: "Cannot be decoded",
    ErrorCode.UNSUPPORTED_FORMAT: "Format not supported",
    ErrorCode.ANALYSIS_FAILED: "Analysis failed",
    ErrorCode.ANALYSIS_TIMEOUT: "Analysis took too long",
    ErrorCode.FILE_UNREADABLE: "File cannot be read",
    ErrorCode.FILE_NAME_NOT_UTF8: "File name is not valid text",
    ErrorCode.MISSING_ALBUM_ART: "No cover art",
    ErrorCode.ACOUSTICBRAINZ_NO_DATA: "No AcousticBrainz data",
    ErrorCode.ACOUSTID_NO_MATCH: "Fingerprint not known to AcoustID",
    ErrorCode.ACOUSTID_NO_API_KEY: "No AcoustID key",
    ErrorCode.MBID_LOOKUP_FAILED: "MusicBrainz lookup failed",
    ErrorCode.FINGERPRINT_FAILED: "No fingerprint",
    ErrorCode.ACOUSTID_NETWORK_ERROR: "AcoustID not reachable",
    ErrorCode.MUSICBRAINZ_NETWORK_ERROR: "MusicBrainz not reachable",
    ErrorCode.ACOUSTICBRAINZ_NETWORK_ERROR: "AcousticBrainz not reachable",
    ErrorCode.COVERART_NETWORK_ERROR: "Cover Art Archive not reachable",
    ErrorCode.ACOUSTID_RATE_LIMIT: "AcoustID asked us to slow down",
    ErrorCode.MUSICBRAINZ_RATE_LIMIT: "MusicBrainz asked us to slow down",
    ErrorCode.SERVICE_UNAVAILABLE: "A service is unavailable",
    ErrorCode.IDENTIFIED_BY_TAGS: "Identified by its tags only",
    ErrorCode.IDENTIFY_LOW_CONFIDENCE: "No sure match",
    ErrorCode.MUSICBRAINZ_SEARCH_NO_MATCH: "Tags match nothing in MusicBrainz",
    ErrorCode.PARTIAL_DECODE: "Partly damaged",
    ErrorCode.QUIET_PASSAGE: "Very quiet passage",
    ErrorCode.CLIPPING_DETECTED: "Clipping",
    ErrorCode.FLAVOR_FAILED: "No musical flavor",
    ErrorCode.TAG_READ_ERROR: "Tags cannot be read",
    ErrorCode.COVER_ART_INVALID: "Cover image not usable",
    ErrorCode.DUPLICATE_CONTENT: "Same content as another file",
    ErrorCode.MANUAL_EDIT_KEPT: "Your edits were kept",
    ErrorCode.NOT_AUDIO: "Not audio",
    ErrorCode.PATH_OUTSIDE_ROOT: "Outside the root folder",
    ErrorCode.SYMLINK_LOOP: "Link loop",
    ErrorCode.DIRECTORY_UNREADABLE: "Folder cannot be read",
    ErrorCode.CUE_SHEET_INVALID: "Cue sheet not usable",
    ErrorCode.INVALID_REQUEST: "Request refused",
    ErrorCode.DATABASE_ERROR: "Database error",
    ErrorCode.DISK_FULL: "Disk full",
    ErrorCode.INTERNAL_ERROR: "Internal error",
}


def error_label(code: str) -> str:
    """The label of ``code``, or the code itself when it is none of ours (an older database's)."""
    try:
        return ErrorCode(code).label
    except ValueError:
        return code


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


class WkmpError(Exception):
    """The root of every exception of ours: an :class:`ErrorCode` and a detail in plain words."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, detail: str = "", *, code: ErrorCode | None = None):
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    @property
    def severity(self) -> Severity:
        return self.code.severity


class IngestError(WkmpError):
    """A failure with a code, a human-readable detail, and where it happened."""

    def __init__(self, code: ErrorCode, detail: str, *, path: str | None = None, stage: str | None = None):
        super().__init__(detail, code=code)
        self.args = (f"{code}: {detail}" + (f" ({path})" if path else ""),)
        self.path = path
        self.stage = stage

    def __reduce__(self) -> tuple[Any, ...]:
        # Travels between processes (worker → import) whole; the default would call __init__(message).
        return (_rebuild, (self.code, self.detail, self.path, self.stage))


def _rebuild(code: ErrorCode, detail: str, path: str | None, stage: str | None) -> IngestError:
    return IngestError(code, detail, path=path, stage=stage)


class Refused(WkmpError):
    """The caller asked for something that cannot be done, and nothing was changed.

    The HTTP API answers ``status`` with ``{"error": error, "message": detail, **extra}``; the
    command line exits 2 (usage). ``error`` is the short label the API has always used for it.
    """

    code = ErrorCode.INVALID_REQUEST
    status: ClassVar[int] = 400
    error: str = "invalid_request"

    def __init__(self, detail: str, *, error: str | None = None, status: int | None = None, **extra: Any):
        super().__init__(detail)
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status  # type: ignore[misc]  # an instance may say more than its class
        self.extra = extra


# HTTP status of an error that is not a Refused: by code where the code says it all, else by severity.
_HTTP_BY_CODE: dict[ErrorCode, int] = {ErrorCode.PATH_OUTSIDE_ROOT: 400}
_HTTP_BY_SEVERITY: dict[Severity, int] = {Severity.SKIP_FILE: 422, Severity.WARNING: 500, Severity.CRITICAL: 500}

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def http_status(exc: WkmpError) -> int:
    """The HTTP status an edge answers for ``exc`` (the one mapping of the API)."""
    if isinstance(exc, Refused):
        return exc.status
    return _HTTP_BY_CODE.get(exc.code) or _HTTP_BY_SEVERITY[exc.severity]


def http_body(exc: WkmpError) -> dict[str, Any]:
    """The API's error body for ``exc``: ``{"error", "message", ...}``."""
    if isinstance(exc, Refused):
        return {"error": exc.error, "message": exc.detail, **exc.extra}
    return {"error": exc.code.value, "message": exc.detail}


def exit_code(exc: WkmpError) -> int:
    """The command line's exit code for ``exc`` (the one mapping of the CLI)."""
    return EXIT_USAGE if isinstance(exc, Refused) else EXIT_FAILED


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
