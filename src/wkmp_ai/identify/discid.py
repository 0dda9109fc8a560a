"""MusicBrainz Disc IDs from a rip's table of contents (https://musicbrainz.org/doc/Disc_ID_Calculation).

A CD's table of contents is the first and last track numbers, the lead-out and each track's start,
in frames (sectors) of 1/75 s counted from the start of the disc, which lies 150 frames (the 2 s
lead-in) before the audio. The Disc ID is the SHA-1 of that table written as upper-case hex
(first and last as 2 digits; lead-out and 99 track offsets as 8 digits, 0 for tracks that do not
exist), in base64 with MusicBrainz's URL-safe alphabet (``.``, ``_`` and ``-`` for ``+``, ``/``
and ``=``). A cue sheet of a whole disc gives the track starts; the decoded audio gives the
lead-out.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from wkmp_ai.records.trackindex import TICKS_PER_FRAME, TrackIndex

__all__ = ["LEAD_IN_FRAMES", "DiscToc", "disc_id", "toc_from_index"]

LEAD_IN_FRAMES = 150


@dataclass(frozen=True)
class DiscToc:
    first: int
    last: int
    lead_out: int  # frames from the start of the disc, lead-in included
    offsets: tuple[int, ...]  # each track's start, lead-in included

    @property
    def disc_id(self) -> str:
        return disc_id(self.first, self.last, self.lead_out, self.offsets)

    @property
    def toc_string(self) -> str:
        """The ``toc`` parameter of a MusicBrainz ``discid`` lookup: ``first+last+leadout+offsets…``."""
        return "+".join(str(n) for n in (self.first, self.last, self.lead_out, *self.offsets))

    def track_frames(self) -> list[int]:
        """Each track's length in frames."""
        ends = [*self.offsets[1:], self.lead_out]
        return [end - start for start, end in zip(self.offsets, ends, strict=True)]


def disc_id(first: int, last: int, lead_out: int, offsets: Sequence[int]) -> str:
    """The MusicBrainz Disc ID of a table of contents (offsets with the 150-frame lead-in added)."""
    if not 1 <= first <= last <= 99 or len(offsets) != last - first + 1:
        raise ValueError(f"a table of contents needs tracks {first}-{last} with one offset each")
    table = [0] * 100
    table[0] = lead_out
    for number, offset in enumerate(offsets, start=first):
        table[number] = offset
    text = f"{first:02X}{last:02X}" + "".join(f"{value:08X}" for value in table)
    digest = hashlib.sha1(text.encode("ascii"), usedforsecurity=False).digest()
    return base64.b64encode(digest, altchars=b"._").decode("ascii").replace("=", "-")


def toc_from_index(index: TrackIndex, total_ticks: int) -> DiscToc | None:
    """The table of contents of a whole-disc rip, or None when the index cannot be one.

    Needs CD-frame positions of one disc's audio tracks (a single-FILE cue sheet or a CD CUESHEET
    block), numbered consecutively. The lead-out is the audio's length in whole frames.
    """
    if not index.disc_layout or not index.tracks:
        return None
    frames = [track.start_frames for track in index.tracks]
    numbers = [track.number for track in index.tracks]
    if any(f is None for f in frames) or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return None
    if numbers[-1] > 99:
        return None
    lead_out = total_ticks // TICKS_PER_FRAME
    starts = [f for f in frames if f is not None]
    if lead_out <= starts[-1]:
        return None
    return DiscToc(
        first=numbers[0],
        last=numbers[-1],
        lead_out=lead_out + LEAD_IN_FRAMES,
        offsets=tuple(f + LEAD_IN_FRAMES for f in starts),
    )
