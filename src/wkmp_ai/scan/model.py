"""The records discovery produces: frozen, picklable, free of I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wkmp_ai.errors import ErrorCode

__all__ = ["DiscoveredFile", "Discovery", "OtherFile", "ScanWarning"]


@dataclass(frozen=True)
class ScanWarning:
    """Something the scan met and went past: ``path`` is root-relative with ``/`` (or absolute when
    the thing lies outside the root)."""

    code: ErrorCode
    path: str
    message: str


@dataclass(frozen=True, slots=True)
class DiscoveredFile:
    """An audio file under the root.

    ``path`` (a property over ``abs_path``) is absolute and canonical (symlinks resolved);
    ``rel_path`` is it relative to the root folder with ``/``. ``format`` is one of
    :data:`wkmp_ai.scan.formats.AUDIO_FORMATS`. ``unchanged`` is True when the caller said it
    already knew this file with this size and mtime: the file was then only stat'ed, not opened,
    and ``format`` is the one the caller gave.

    The path is kept as a string because building a :class:`~pathlib.Path` costs more than
    verifying the file does (measured: 10 µs against 8 µs on a warm tree).
    """

    abs_path: str
    rel_path: str
    size: int
    mtime_ns: int
    format: str
    unchanged: bool = False

    @property
    def path(self) -> Path:
        return Path(self.abs_path)


@dataclass(frozen=True, slots=True)
class OtherFile:
    """A file that is not audio, reported only on request so that a rescan need not read it again."""

    rel_path: str
    size: int
    mtime_ns: int
    unchanged: bool


@dataclass(frozen=True)
class Discovery:
    """What a walk found: the audio files (sorted by ``rel_path``), the warnings, and the
    root-relative paths that could not be read (a folder ends with ``/``). Nothing under an
    unreadable path may be taken as gone."""

    files: list[DiscoveredFile]
    warnings: list[ScanWarning]
    unreadable: list[str] = field(default_factory=list)
    others: list[OtherFile] = field(default_factory=list)

    def is_unreadable(self, rel_path: str) -> bool:
        """True when ``rel_path`` is, or lies under, a path the walk could not read."""
        return any(rel_path == bad or (bad.endswith("/") and rel_path.startswith(bad)) for bad in self.unreadable)
