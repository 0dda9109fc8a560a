"""What a rip's track index adds to an imported file (docs/cue.md).

A file whose passages follow its cue sheet, CUESHEET or chapters gets, per passage, the track's
own title and performer (shown on the passage rows before identification, and handed to
identification as tag evidence), and, for a whole-disc rip, the MusicBrainz Disc ID of its table
of contents. Pure functions of the worker's :class:`~wkmp_ai.records.analysis.FileAnalysis`.
"""

from __future__ import annotations

from wkmp_ai.db.imports import PassageText
from wkmp_ai.identify.discid import DiscToc, toc_from_index
from wkmp_ai.records.analysis import FileAnalysis
from wkmp_ai.records.trackindex import IndexedTrack
from wkmp_ai.ticks import samples_to_ticks

__all__ = ["disc_toc", "passage_texts", "tracks_of"]


def tracks_of(analysis: FileAnalysis) -> list[IndexedTrack] | None:
    """The index's track for each passage, in order; None when silences made the passages."""
    index = analysis.track_index
    if index is None or len(index.tracks) != len(analysis.passages):
        return None
    return list(index.tracks)


def passage_texts(analysis: FileAnalysis, file_text: PassageText) -> list[PassageText] | None:
    """Each passage's title/artist/album from its track, falling back to the file's ("Title (2/3)")."""
    tracks = tracks_of(analysis)
    if tracks is None:
        return None
    index = analysis.track_index
    assert index is not None
    album = index.album or file_text.album
    count = len(tracks)
    out = []
    for number, track in enumerate(tracks, start=1):
        title = track.title or (f"{file_text.title} ({number}/{count})" if file_text.title else None)
        out.append(PassageText(title, track.performer or index.performer or file_text.artist, album))
    return out


def disc_toc(analysis: FileAnalysis) -> DiscToc | None:
    """The table of contents of a whole-disc rip (a cue sheet of one FILE or a CD CUESHEET block)."""
    if analysis.track_index is None or not analysis.passages:
        return None
    samples = round(analysis.duration_s * analysis.sample_rate)  # exact: duration_s is samples / rate
    return toc_from_index(analysis.track_index, samples_to_ticks(samples, analysis.sample_rate))
