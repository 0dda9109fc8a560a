"""A file's track index from its rip: where each track starts, whatever said so.

Rippers record track boundaries in a cue sheet (:mod:`wkmp_ai.scan.cuesheet`), a FLAC CUESHEET
metadata block, or MP4/Matroska chapters. Each becomes a :class:`TrackIndex` with positions in
ticks from the start of the file; the import then uses those positions as passage boundaries
instead of silences (docs/cue.md). :func:`check_fits` says, in plain words, when an index cannot
describe the decoded audio.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wkmp_ai.errors import ErrorCode, IngestError
from wkmp_ai.ticks import TICKS_PER_SECOND, samples_to_ticks

__all__ = [
    "CD_FRAMES_PER_SECOND",
    "CD_SAMPLES_PER_FRAME",
    "TICKS_PER_FRAME",
    "IndexedTrack",
    "TrackIndex",
    "check_fits",
    "index_from_chapters",
    "index_from_flac_cuesheet",
]

CD_FRAMES_PER_SECOND = 75
TICKS_PER_FRAME = TICKS_PER_SECOND // CD_FRAMES_PER_SECOND  # 376,320, exactly
CD_SAMPLES_PER_FRAME = 588  # at 44,100 Hz
MAX_TITLE_CHARS = 1024
# A track shorter than this (or starting this close to the end) means the index describes other audio.
MIN_TRACK_TICKS = TICKS_PER_SECOND // 2


def invalid_index(detail: str, origin: str) -> IngestError:
    return IngestError(ErrorCode.CUE_SHEET_INVALID, detail, path=origin or None)


@dataclass(frozen=True)
class IndexedTrack:
    """One track of an audio file as its index describes it; positions from the file's start."""

    number: int
    start_ticks: int  # INDEX 01 (a chapter's start)
    pregap_ticks: int | None = None  # INDEX 00 in the same file, if any
    title: str | None = None
    performer: str | None = None
    songwriter: str | None = None
    isrc: str | None = None
    start_frames: int | None = None  # INDEX 01 in CD frames (cue sheets, CD CUESHEET blocks)


@dataclass(frozen=True)
class TrackIndex:
    """The tracks of one audio file from its rip's own index, and where that index came from.

    ``source`` is ``cue`` (a sheet beside the file), ``embedded_cue`` (a CUESHEET tag holding cue
    text), ``flac_cuesheet`` (the FLAC metadata block) or ``chapters`` (MP4/Matroska).
    ``disc_layout`` is True when the positions are CD frames of one whole disc (one file, audio
    tracks only), so a MusicBrainz Disc ID can be computed once the audio's length is known.
    ``declared_end_ticks`` is the lead-out a FLAC CUESHEET block declares (None otherwise).
    """

    source: str
    origin: str
    tracks: tuple[IndexedTrack, ...]
    album: str | None = None
    performer: str | None = None
    date: str | None = None
    genre: str | None = None
    catalog: str | None = None
    disc_layout: bool = False
    declared_end_ticks: int | None = None
    first_track: int = 1
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class FoundIndex:
    """What looking for a file's track index found: the index, and unusable cue sheets in plain words."""

    index: TrackIndex | None
    problems: tuple[str, ...] = ()


# How the analysis asks for a file's index (scan.findindex.find_track_index), given the chapters the
# open container declares: injected by ingest, so audio/ needs nothing of scan/.
IndexFinder = Callable[[Path, Sequence[tuple[int, "str | None"]]], FoundIndex]


def index_from_flac_cuesheet(cuesheet: object, sample_rate: int, *, origin: str = "") -> TrackIndex:
    """A FLAC CUESHEET metadata block (mutagen's ``flac.CueSheet``) as a :class:`TrackIndex`.

    Offsets there are in samples; the lead-out track (number 170 on a CD, 255 otherwise) gives the
    length the block declares.
    """
    raw_tracks = list(getattr(cuesheet, "tracks", []) or [])
    is_cd = bool(getattr(cuesheet, "compact_disc", False))
    lead_out = next((t for t in raw_tracks if t.track_number in (170, 255)), None)
    tracks = []
    audio_only = True
    for t in raw_tracks:
        if t.track_number in (170, 255):
            continue
        if t.type != 0:  # non-audio (data) track
            audio_only = False
            continue
        indexes = {i.index_number: t.start_offset + i.index_offset for i in t.indexes}
        if 1 not in indexes:
            continue
        start = indexes[1]
        frames = start // CD_SAMPLES_PER_FRAME if is_cd and sample_rate == 44100 else None
        tracks.append(
            IndexedTrack(
                number=int(t.track_number),
                start_ticks=samples_to_ticks(start, sample_rate),
                pregap_ticks=samples_to_ticks(indexes[0], sample_rate) if 0 in indexes else None,
                isrc=_ascii(t.isrc),
                start_frames=frames,
            )
        )
    if not tracks:
        raise invalid_index("the FLAC CUESHEET block lists no audio track", origin)
    for a, b in itertools.pairwise(tracks):
        if b.start_ticks <= a.start_ticks:
            raise invalid_index(
                f"the FLAC CUESHEET block has track {b.number} starting before track {a.number}", origin
            )
    declared = samples_to_ticks(lead_out.start_offset, sample_rate) if lead_out is not None else None
    return TrackIndex(
        source="flac_cuesheet",
        origin=origin,
        tracks=tuple(tracks),
        catalog=_ascii(getattr(cuesheet, "media_catalog_number", b"")),
        disc_layout=is_cd and audio_only and sample_rate == 44100,
        declared_end_ticks=declared,
        first_track=tracks[0].number,
    )


def _ascii(value: bytes | str | None) -> str | None:
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else (value or "")
    return text.strip("\x00 ") or None


def index_from_chapters(chapters: Sequence[tuple[int, str | None]], *, origin: str = "") -> TrackIndex:
    """Chapters (start in ticks, title) of an MP4/Matroska file as a :class:`TrackIndex`."""
    ordered = sorted(chapters)
    tracks = tuple(
        IndexedTrack(number=i, start_ticks=max(0, start), title=(title or None) and title[:MAX_TITLE_CHARS])
        for i, (start, title) in enumerate(ordered, start=1)
    )
    if not tracks:
        raise invalid_index("the file has no chapters", origin)
    return TrackIndex(source="chapters", origin=origin, tracks=tracks)


def check_fits(index: TrackIndex, total_ticks: int) -> str | None:
    """Why ``index`` does not describe audio of ``total_ticks``, in plain words, or None if it fits.

    A length the index declares (a FLAC CUESHEET lead-out) must be within a second of the audio's,
    and every track must start before the end with at least half a second to go.
    """
    seconds = total_ticks / TICKS_PER_SECOND
    declared = index.declared_end_ticks
    if declared is not None and abs(declared - total_ticks) > TICKS_PER_SECOND:
        return f"the index declares {declared / TICKS_PER_SECOND:.2f} s of audio, but the file holds {seconds:.2f} s"
    for track in index.tracks:
        if track.start_ticks >= total_ticks - MIN_TRACK_TICKS:
            at = track.start_ticks / TICKS_PER_SECOND
            return f"track {track.number} starts at {at:.2f} s, but the audio lasts {seconds:.2f} s"
    for a, b in itertools.pairwise(index.tracks):
        if b.start_ticks - a.start_ticks < MIN_TRACK_TICKS:
            return f"tracks {a.number} and {b.number} start less than half a second apart"
    return None
