"""CUE sheets: the track list a ripper writes beside, or into, a whole-album file.

A cue sheet (the CDRWIN format; https://wiki.hydrogenaud.io/index.php?title=Cue_sheet) names one
or more audio files (``FILE "x.wav" WAVE``) and, for each track, where it starts in that file
(``INDEX 01 MM:SS:FF``, 75 frames a second), its pregap (``INDEX 00``), title and performer::

    PERFORMER "Artist"
    TITLE "Album"
    FILE "Album.wav" WAVE
      TRACK 01 AUDIO
        TITLE "First"
        INDEX 01 00:00:00
      TRACK 02 AUDIO
        TITLE "Second"
        INDEX 00 03:58:50
        INDEX 01 04:00:00

:func:`parse_cue` reads the text whatever its encoding (UTF-8 with or without BOM, UTF-16 with a
BOM, otherwise Windows-1252, which covers Latin-1), keeps ``REM`` comments (``REM DATE 1999``,
``REM GENRE Rock``), and refuses what is not a cue sheet (binary, huge, times out of range, tracks
out of order) with one :class:`~wkmp_ai.errors.IngestError` (``CUE_SHEET_INVALID``) whose message
names the line. Nothing here touches the file system or the audio: :func:`file_matches` says which
FILE of a sheet an audio file is, and :func:`tracks_for_file` turns that FILE's tracks into a
:class:`~wkmp_ai.records.trackindex.TrackIndex`. Positions are exact: one frame is 376,320 ticks.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass

from wkmp_ai.records.trackindex import (
    CD_FRAMES_PER_SECOND,
    TICKS_PER_FRAME,
    IndexedTrack,
    TrackIndex,
    invalid_index,
)

__all__ = [
    "MAX_CUE_BYTES",
    "CueFile",
    "CueSheet",
    "CueTrack",
    "decode_cue_text",
    "file_matches",
    "parse_cue",
    "tracks_for_file",
]

# A 99-track cue with long titles and comments is ~20 KB; anything far larger is not one.
MAX_CUE_BYTES = 256 * 1024
MAX_TRACKS = 99  # the Red Book's limit, and the two digits of TRACK NN
MAX_POSITION_FRAMES = 24 * 3600 * CD_FRAMES_PER_SECOND  # a day: longer positions are not positions
MAX_FIELD_CHARS = 1024

_TIME = re.compile(r"^(\d{1,4}):(\d{1,2}):(\d{1,2})$")
_FILE_TYPES = ("WAVE", "MP3", "AIFF", "BINARY", "MOTOROLA", "FLAC", "OGG", "APE", "WV", "M4A")


@dataclass(frozen=True)
class CueTrack:
    number: int
    kind: str  # AUDIO, MODE1/2352, …
    file: int  # index into CueSheet.files of the FILE its TRACK line sits in
    indexes: tuple[tuple[int, int, int], ...]  # (index number, file index, frames), in order
    title: str | None = None
    performer: str | None = None
    songwriter: str | None = None
    isrc: str | None = None
    rem: tuple[tuple[str, str], ...] = ()

    def index(self, number: int) -> tuple[int, int] | None:
        """``(file index, frames)`` of INDEX ``number``, or None."""
        for n, file, frames in self.indexes:
            if n == number:
                return file, frames
        return None


@dataclass(frozen=True)
class CueFile:
    name: str  # as written in the FILE line (may use \\ separators)
    type: str


@dataclass(frozen=True)
class CueSheet:
    files: tuple[CueFile, ...]
    tracks: tuple[CueTrack, ...]
    title: str | None = None
    performer: str | None = None
    catalog: str | None = None
    rem: tuple[tuple[str, str], ...] = ()
    ignored_lines: int = 0  # commands this parser does not know (kept quiet, counted)

    def rem_value(self, key: str) -> str | None:
        return next((value for k, value in self.rem if k == key), None)


def decode_cue_text(data: bytes, *, origin: str = "") -> str:
    """The text of a cue sheet: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252/Latin-1."""
    if len(data) > MAX_CUE_BYTES:
        raise invalid_index(f"the cue sheet is {len(data):,} bytes, more than a cue sheet can be", origin)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise invalid_index("the cue sheet starts like UTF-16 text but is not", origin) from exc
    elif data.startswith(codecs.BOM_UTF8):
        try:
            text = data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid_index("the cue sheet starts like UTF-8 text but is not", origin) from exc
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Windows rippers write the system code page; 1252 is Latin-1 plus letters in 0x80-0x9F.
            text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\x1a")
    if "\x00" in text or controls > len(text) // 100:
        raise invalid_index("the cue sheet holds binary data, not text", origin)
    return text


def _frames(value: str, line_no: int, origin: str) -> int:
    match = _TIME.match(value)
    if match is None:
        raise invalid_index(f"line {line_no}: {value[:40]!r} is not a time in MM:SS:FF", origin)
    minutes, seconds, frames = (int(part) for part in match.groups())
    if seconds >= 60 or frames >= CD_FRAMES_PER_SECOND:
        raise invalid_index(
            f"line {line_no}: the time {value} is out of range (seconds below 60, frames below 75)", origin
        )
    total = (minutes * 60 + seconds) * CD_FRAMES_PER_SECOND + frames
    if total > MAX_POSITION_FRAMES:
        raise invalid_index(f"line {line_no}: the time {value} is longer than a day", origin)
    return total


def _text_arg(rest: str) -> str:
    """A quoted or bare argument, the rest of the line (quotes removed, length capped)."""
    rest = rest.strip()
    if len(rest) >= 2 and rest[0] == '"' and rest.rfind('"') > 0:
        rest = rest[1 : rest.rfind('"')]
    return rest[:MAX_FIELD_CHARS]


def _file_arg(rest: str) -> tuple[str, str]:
    """``"name with spaces.wav" WAVE`` → (name, type); the type may be missing."""
    rest = rest.strip()
    if rest.startswith('"') and rest.rfind('"') > 0:
        end = rest.rfind('"')
        return rest[1:end][:MAX_FIELD_CHARS], rest[end + 1 :].strip().upper()
    head, _, tail = rest.rpartition(" ")
    if head and tail.upper() in _FILE_TYPES:
        return head.strip()[:MAX_FIELD_CHARS], tail.upper()
    return rest[:MAX_FIELD_CHARS], ""


class _TrackBuilder:
    def __init__(self, number: int, kind: str, file: int):
        self.number, self.kind, self.file = number, kind, file
        self.indexes: list[tuple[int, int, int]] = []
        self.fields: dict[str, str] = {}
        self.rem: list[tuple[str, str]] = []

    def build(self) -> CueTrack:
        return CueTrack(
            self.number,
            self.kind,
            self.file,
            tuple(self.indexes),
            title=self.fields.get("TITLE") or None,
            performer=self.fields.get("PERFORMER") or None,
            songwriter=self.fields.get("SONGWRITER") or None,
            isrc=self.fields.get("ISRC") or None,
            rem=tuple(self.rem),
        )


def parse_cue(data: bytes | str, *, origin: str = "") -> CueSheet:
    """Parse a cue sheet; raises IngestError(CUE_SHEET_INVALID) naming the line that is wrong."""
    text = decode_cue_text(data, origin=origin) if isinstance(data, bytes) else data
    if len(text) > MAX_CUE_BYTES:
        raise invalid_index("the cue sheet is longer than a cue sheet can be", origin)
    files: list[CueFile] = []
    tracks: list[_TrackBuilder] = []
    disc: dict[str, str] = {}
    disc_rem: list[tuple[str, str]] = []
    ignored = 0
    for line_no, raw in enumerate(text.replace("\x1a", "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        command, _, rest = line.partition(" ")
        command = command.upper()
        track = tracks[-1] if tracks else None
        if command == "REM":
            key, _, value = rest.strip().partition(" ")
            (track.rem if track else disc_rem).append((key.upper()[:64], _text_arg(value)))
        elif command == "FILE":
            name, kind = _file_arg(rest)
            if not name:
                raise invalid_index(f"line {line_no}: FILE names no file", origin)
            files.append(CueFile(name, kind))
        elif command == "TRACK":
            parts = rest.split()
            if not parts or not parts[0].isdigit():
                raise invalid_index(f"line {line_no}: TRACK needs a number", origin)
            number = int(parts[0])
            if not files:
                raise invalid_index(f"line {line_no}: TRACK {number} comes before any FILE line", origin)
            if not 1 <= number <= MAX_TRACKS:
                raise invalid_index(f"line {line_no}: track number {number} is outside 1-{MAX_TRACKS}", origin)
            if tracks and number <= tracks[-1].number:
                raise invalid_index(f"line {line_no}: track {number} comes after track {tracks[-1].number}", origin)
            tracks.append(_TrackBuilder(number, (parts[1] if len(parts) > 1 else "AUDIO").upper(), len(files) - 1))
        elif command == "INDEX":
            parts = rest.split()
            if track is None:
                raise invalid_index(f"line {line_no}: INDEX outside a TRACK", origin)
            if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) > 99:
                raise invalid_index(f"line {line_no}: INDEX needs a number (00-99) and a time", origin)
            number, frames = int(parts[0]), _frames(parts[1], line_no, origin)
            if track.indexes and number <= track.indexes[-1][0]:
                raise invalid_index(
                    f"line {line_no}: INDEX {number:02d} comes after INDEX {track.indexes[-1][0]:02d}", origin
                )
            track.indexes.append((number, len(files) - 1, frames))
        elif command in ("TITLE", "PERFORMER", "SONGWRITER", "ISRC", "CATALOG"):
            (track.fields if track else disc)[command] = _text_arg(rest)
        elif command in ("PREGAP", "POSTGAP"):
            _frames(rest.strip(), line_no, origin)  # checked; virtual silence, not in the file
        elif command in ("FLAGS", "CDTEXTFILE"):
            pass
        else:
            ignored += 1
            if ignored > 1000:
                raise invalid_index("the text is not a cue sheet (too many unknown lines)", origin)
    if not tracks:
        raise invalid_index("the cue sheet lists no tracks", origin)
    built = tuple(t.build() for t in tracks)
    for t in built:
        if t.index(1) is None:
            raise invalid_index(f"track {t.number} has no INDEX 01 (where it starts)", origin)
    _check_order(built, origin)
    return CueSheet(
        files=tuple(files),
        tracks=built,
        title=disc.get("TITLE") or None,
        performer=disc.get("PERFORMER") or None,
        catalog=disc.get("CATALOG") or None,
        rem=tuple(disc_rem),
        ignored_lines=ignored,
    )


def _check_order(tracks: Sequence[CueTrack], origin: str) -> None:
    """Within each file, every index comes after the one before it."""
    last: dict[int, int] = {}
    for track in tracks:
        for number, file, frames in track.indexes:
            if frames < last.get(file, -1):
                raise invalid_index(f"track {track.number} INDEX {number:02d} goes back in time in its file", origin)
            last[file] = frames


def _stem(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def file_matches(sheet: CueSheet, audio_name: str, *, cue_name: str = "") -> int | None:
    """Which FILE of ``sheet`` is the audio file ``audio_name`` (a file name, no folder), or None.

    In order: the same name; the same name ignoring case; the same name but for the extension (a cue
    written for ``x.wav`` beside the ``x.flac`` it was compressed to); and, for a sheet of one FILE
    whose own name (``cue_name``) has the audio's stem, that FILE (an image renamed after ripping).
    """
    names = [_base(f.name) for f in sheet.files]
    for test in (
        lambda n: n == audio_name,
        lambda n: n.casefold() == audio_name.casefold(),
        lambda n: _stem(n).casefold() == _stem(audio_name).casefold(),
    ):
        hits = [i for i, n in enumerate(names) if test(n)]
        if len(hits) == 1:
            return hits[0]
    if len(sheet.files) == 1 and cue_name and _stem(cue_name).casefold() == _stem(audio_name).casefold():
        return 0
    return None


def tracks_for_file(sheet: CueSheet, file: int, *, source: str = "cue", origin: str = "") -> TrackIndex:
    """The tracks that start (INDEX 01) in FILE number ``file`` of ``sheet``, as a :class:`TrackIndex`."""
    out = []
    for track in sheet.tracks:
        start = track.index(1)
        if start is None or start[0] != file or track.kind != "AUDIO":
            continue
        pregap = track.index(0)
        out.append(
            IndexedTrack(
                number=track.number,
                start_ticks=start[1] * TICKS_PER_FRAME,
                pregap_ticks=pregap[1] * TICKS_PER_FRAME if pregap is not None and pregap[0] == file else None,
                title=track.title,
                performer=track.performer or sheet.performer,
                songwriter=track.songwriter,
                isrc=track.isrc,
                start_frames=start[1],
            )
        )
    if not out:
        raise invalid_index(f"the cue sheet has no audio track in {sheet.files[file].name}", origin)
    whole_disc = len(sheet.files) == 1 and all(t.kind == "AUDIO" for t in sheet.tracks)
    return TrackIndex(
        source=source,
        origin=origin,
        tracks=tuple(out),
        album=sheet.title,
        performer=sheet.performer,
        date=sheet.rem_value("DATE"),
        genre=sheet.rem_value("GENRE"),
        catalog=sheet.catalog,
        disc_layout=whole_disc,
        first_track=sheet.tracks[0].number,
    )
