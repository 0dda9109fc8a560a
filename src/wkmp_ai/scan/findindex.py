"""Find the track index a rip left for an audio file (docs/cue.md).

In order of preference:

1. a ``.cue`` sheet in the same folder whose ``FILE`` line names the file (or names ``x.wav`` beside
   ``x.flac``, or is the only FILE of a sheet named after the file);
2. a ``CUESHEET`` tag (Vorbis comment, APE tag) holding cue text;
3. a FLAC ``CUESHEET`` metadata block (sample-exact, but without titles);
4. MP4 / Matroska chapters, which the decoder reads from the container it has open anyway.

A sheet that is there but unusable (binary, huge, broken, naming other files only) is not an
error of the audio: :class:`FoundIndex` carries a plain-words ``problem`` and the import falls back
to silence segmentation with a ``CUE_SHEET_INVALID`` warning. Nothing here decodes audio.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from wkmp_ai.errors import IngestError
from wkmp_ai.records.trackindex import FoundIndex, TrackIndex, index_from_chapters, index_from_flac_cuesheet
from wkmp_ai.scan.cuesheet import MAX_CUE_BYTES, file_matches, parse_cue, tracks_for_file

__all__ = ["MAX_SIDECAR_CUES", "FoundIndex", "find_track_index"]

log = logging.getLogger(__name__)

MAX_SIDECAR_CUES = 50  # a folder with more .cue files than this is not an album rip's


@functools.lru_cache(maxsize=16)
def _cue_names(folder: str, _mtime_ns: int) -> tuple[str, ...]:
    """The .cue names in ``folder`` (listed once per folder state: the files of an album come together)."""
    try:
        with os.scandir(folder) as entries:
            return tuple(sorted(e.name for e in entries if e.name.lower().endswith(".cue")))
    except OSError:
        return ()


def _sidecar_cues(audio: Path) -> list[Path]:
    try:
        mtime = audio.parent.stat().st_mtime_ns
    except OSError:
        return []
    own = audio.stem.casefold()
    names = sorted(_cue_names(str(audio.parent), mtime), key=lambda n: (Path(n).stem.casefold() != own, n))
    return [audio.parent / n for n in names[:MAX_SIDECAR_CUES]]


def _read_cue(path: Path) -> bytes:
    if path.is_symlink():  # a link may lead outside the library: cue sheets are read where they are
        raise OSError(f"{path.name} is a symbolic link")
    if not path.is_file():  # a FIFO or device named .cue is not read
        raise OSError(f"{path.name} is not a regular file")
    with path.open("rb") as handle:
        return handle.read(MAX_CUE_BYTES + 1)  # one byte over: the parser then says it is too big


def _from_sidecar(audio: Path, problems: list[str]) -> TrackIndex | None:
    for cue in _sidecar_cues(audio):
        try:
            sheet = parse_cue(_read_cue(cue), origin=cue.name)
        except IngestError as exc:
            if cue.stem.casefold() == audio.stem.casefold():  # named after this file: it was meant for it
                problems.append(f"{cue.name}: {exc.detail}")
            continue
        except OSError as exc:
            if cue.stem.casefold() == audio.stem.casefold():
                problems.append(f"{cue.name} cannot be read: {exc.strerror or exc}")
            continue
        which = file_matches(sheet, audio.name, cue_name=cue.name)
        if which is None:
            continue
        try:
            return tracks_for_file(sheet, which, source="cue", origin=cue.name)
        except IngestError as exc:
            problems.append(f"{cue.name}: {exc.detail}")
    return None


def _embedded(audio: Path, problems: list[str]) -> TrackIndex | None:
    """A CUESHEET tag, else a FLAC CUESHEET block (mutagen reads both without decoding)."""
    try:
        import mutagen
        from mutagen.flac import FLAC
    except ImportError:  # pragma: no cover - mutagen is a dependency
        return None
    try:
        tagged = mutagen.File(audio)
    except Exception as exc:  # mutagen on hostile bytes may raise anything; the decode will say more
        log.debug("%s: no tags for a cue sheet: %s", audio, exc)
        return None
    if tagged is None:
        return None
    text = _cuesheet_tag(tagged)
    if text:
        try:
            sheet = parse_cue(text, origin=f"{audio.name} (CUESHEET tag)")
            which = file_matches(sheet, audio.name)
            if which is None and len(sheet.files) == 1:
                which = 0  # an embedded sheet describes its own file, whatever it calls it
            if which is not None:
                return tracks_for_file(sheet, which, source="embedded_cue", origin=f"{audio.name} (CUESHEET tag)")
            problems.append(f"the CUESHEET tag of {audio.name} names other files only")
        except IngestError as exc:
            problems.append(f"the CUESHEET tag of {audio.name}: {exc.detail}")
    block = getattr(tagged, "cuesheet", None) if isinstance(tagged, FLAC) else None
    if block is not None and getattr(block, "tracks", None):
        try:
            return index_from_flac_cuesheet(block, int(tagged.info.sample_rate), origin=audio.name)
        except IngestError as exc:
            problems.append(f"the CUESHEET block of {audio.name}: {exc.detail}")
    return None


def _cuesheet_tag(tagged: object) -> str | None:
    tags = getattr(tagged, "tags", None)
    if tags is None:
        return None
    for key in ("CUESHEET", "cuesheet", "Cuesheet"):
        try:
            value = tags.get(key)
        except (KeyError, TypeError, ValueError):
            value = None
        if value is None:
            continue
        if isinstance(value, list):
            value = value[0] if value else None
        text = getattr(value, "value", value)  # APEv2 values wrap their text
        if isinstance(text, bytes):
            return text.decode("utf-8", "replace")
        return str(text) if text else None
    return None


def find_track_index(audio: Path, chapters: Sequence[tuple[int, str | None]] = ()) -> FoundIndex:
    """The best track index for ``audio`` (see the module doc), and the sheets that could not be used.

    ``chapters`` are the container's (start ticks, title), given by the decoder; one chapter is
    no index (a file of one track needs none).
    """
    problems: list[str] = []
    index = _from_sidecar(audio, problems) or _embedded(audio, problems)
    if index is None and len(chapters) > 1:
        try:
            index = index_from_chapters(chapters, origin=audio.name)
        except IngestError as exc:
            problems.append(exc.detail)
    if index is not None and len(index.tracks) < 2:
        index = None  # one track from 0 is the whole file: silence segmentation may still split it
    return FoundIndex(index, tuple(problems))
