"""Evidence of damage while a file decodes: what counts, and how it is told to the user.

Damage is reported only on evidence (docs/audio.md, "Damaged files"): packets the decoder refused,
packets the demuxer flagged as corrupt, errors FFmpeg's demuxer or decoder logged while reading
(a failed checksum, a lost frame header), a decoded length clearly short of the length the
container declares (only when the container really declares one: FFmpeg's estimate from the bit
rate is not a declaration), and a container whose own structure ends early (an Ogg page or a WAV
data chunk running past the end of the file). Frame timestamps are not evidence: Vorbis, AAC and
Opus timestamps jitter by a block without any audio being lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import av.logging

__all__ = [
    "DecodeProblems",
    "FFmpegLog",
    "ffmpeg_message",
    "ogg_ends_inside_a_page",
    "plain_message",
    "wav_data_missing",
]

# Decoded audio shorter than the declared length by more than this is reported as missing. Lossy
# codecs differ from their container's figure by their priming (a few ms, WMA ~50 ms), never more.
SHORT_TOLERANCE_S = 0.5
SHORT_TOLERANCE = 0.01  # of the declared length


@dataclass
class DecodeProblems:
    """Evidence of damage found while decoding, in a form a user can act on."""

    bad_packets: int = 0  # packets the decoder refused
    first_error_s: float | None = None
    first_message: str = ""
    corrupt_packets: int = 0  # packets the demuxer flagged as corrupt
    first_corrupt_s: float | None = None
    logged_errors: int = 0  # errors FFmpeg's demuxer or decoder logged (checksum, lost sync, ...)
    first_logged_s: float | None = None
    first_logged: str = ""
    gave_up: bool = False
    short_by_s: float = 0.0  # how much less audio than the container declares
    declared_s: float | None = None
    cut_short: str = ""  # the container's own structure says the file ends early

    # One piece of evidence as PyAV's loop meets it; the add_* methods take the C decoder's counts
    # for a whole file at once (wkmp_ai.audio.avdecode).
    def note(self, at_s: float, message: str) -> None:
        self.add_bad(1, at_s, message)

    def note_corrupt(self, at_s: float) -> None:
        self.add_corrupt(1, at_s)

    def note_logged(self, at_s: float | None, message: str) -> None:
        self.add_logged(1, at_s, message)

    def add_bad(self, count: int, first_s: float, message: str) -> None:
        if self.first_error_s is None:
            self.first_error_s, self.first_message = first_s, message
        self.bad_packets += count

    def add_corrupt(self, count: int, first_s: float) -> None:
        if self.first_corrupt_s is None:
            self.first_corrupt_s = first_s
        self.corrupt_packets += count

    def add_logged(self, count: int, first_s: float | None, message: str) -> None:
        if self.logged_errors == 0:
            self.first_logged_s, self.first_logged = first_s, message
        self.logged_errors += count

    def __bool__(self) -> bool:
        return bool(
            self.bad_packets
            or self.corrupt_packets
            or self.logged_errors
            or self.gave_up
            or self.short_by_s > 0
            or self.cut_short
        )

    def describe(self) -> str:
        parts = []
        if self.bad_packets:
            where = _at(self.first_error_s)
            reason = self.first_logged or self.first_message
            parts.append(f"{_count(self.bad_packets, 'packet')} could not be decoded, the first {where} ({reason})")
        if self.corrupt_packets:
            count, where = _count(self.corrupt_packets, "packet"), _at(self.first_corrupt_s)
            parts.append(f"{count} marked as corrupt by the demuxer, the first {where}")
        if self.logged_errors and not self.bad_packets:
            parts.append(f"damaged data {_at(self.first_logged_s)} ({self.first_logged})")
        if self.gave_up:
            parts.append("the rest of the file was given up")
        if self.short_by_s > 0:
            parts.append(
                f"{self.short_by_s:.1f} s of audio missing: the file declares {self.declared_s:.1f} s "
                "(truncated or damaged)"
            )
        if self.cut_short:
            parts.append(self.cut_short)
        return "; ".join(parts)


def _at(seconds: float | None) -> str:
    if seconds is None:
        return "near the start"  # met while FFmpeg probed the stream
    return "at the start" if seconds < 0.05 else f"at {seconds:.1f} s"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def ffmpeg_message(exc: BaseException) -> str:
    """An FFmpeg error in plain words: its text without ``[Errno N]``, the path or a Python repr."""
    text = getattr(exc, "strerror", None) or str(exc)
    log = getattr(exc, "log", None)  # PyAV attaches the message FFmpeg logged, when logging is on
    if isinstance(log, tuple) and len(log) == 3 and str(log[2]).strip():
        text = f"{text}: {str(log[2]).strip()}"
    return plain_message(text)


def plain_message(text: str) -> str:
    """FFmpeg's text for an error code, in the words a user is shown."""
    return _PLAIN_FFMPEG.get(text, text)


_PLAIN_FFMPEG = {
    "End of file": "the file ends before any audio",
    "Invalid data found when processing input": "not audio, or audio too damaged to read",
}
# FFmpeg logs this when a container declares no duration and it guessed one from the bit rate
# (an MP3 without a Xing/Info header, raw AAC, a WAV whose header is wrong): not a declaration.
BITRATE_ESTIMATE = "Estimating duration from bitrate"
ERROR_LEVEL = av.logging.ERROR


class FFmpegLog:
    """FFmpeg's log messages while this thread reads the file, turned into evidence.

    Started and stopped around stretches of decoding (never held across a ``yield``), so a consumer
    that stops early leaves no capture behind, and nothing another thread logs is counted.
    """

    def __init__(self) -> None:
        if (av.logging.get_level() or 0) < av.logging.WARNING:
            av.logging.set_level(av.logging.WARNING)
        # PyAV otherwise holds back a repeated message and logs "repeated N times" with the next
        # one, which could land in the next file's capture.
        av.logging.set_skip_repeated(False)
        self._capture: av.logging.Capture | None = None
        self._logs: list[tuple[int, str, str]] = []

    def start(self) -> None:
        if self._capture is None:
            self._capture = av.logging.Capture(True)
            self._logs = self._capture.__enter__()

    def stop(self) -> list[tuple[int, str, str]]:
        if self._capture is None:
            return []
        self._capture.__exit__(None, None, None)
        self._capture = None
        logs, self._logs = self._logs, []
        return logs


_OGG_MAX_PAGE = 27 + 255 + 255 * 255  # header, segment table, the most data a page can hold


def wav_data_missing(path: Path) -> int:
    """Bytes of its ``data`` chunk a RIFF/WAVE file declares but does not hold (0: none, or unknown).

    FFmpeg then estimates the length from the bit rate, so no declared length is compared; this is
    the declaration. A size of 0 or 0xFFFFFFFF is a stream's "unknown" and is not counted.
    """
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            head = fh.read(1 << 16)
    except OSError:
        return 0
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return 0
    position = 12
    while position + 8 <= len(head):
        chunk, length = head[position : position + 4], int.from_bytes(head[position + 4 : position + 8], "little")
        if chunk == b"data":
            if length in (0, 0xFFFFFFFF):
                return 0
            return max(0, position + 8 + length - size)
        position += 8 + length + (length & 1)
    return 0


def ogg_ends_inside_a_page(path: Path) -> bool:
    """True when the file's last Ogg page runs past the end of the file: it was cut short.

    An Ogg file declares no length of its own (FFmpeg reads the last page's granule position), so a
    truncated one would otherwise look like a shorter, intact file. Pages are followed from each
    capture pattern in the last two pages' worth of bytes: in an intact file a chain of pages from a
    real page start ends exactly at the end of the file. (An "OggS" inside packet data starts a
    chain that does not, which is why every candidate is tried.)
    """
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            start = max(0, size - 2 * _OGG_MAX_PAGE)
            fh.seek(start)
            tail = fh.read()
    except OSError:
        return False
    candidate = tail.find(b"OggS")
    if candidate < 0:
        return False
    while candidate >= 0:
        position = candidate
        while position + 27 <= len(tail) and tail[position : position + 4] == b"OggS":
            segments = tail[position + 26]
            table = tail[position + 27 : position + 27 + segments]
            if tail[position + 4] != 0 or len(table) < segments:
                break
            position += 27 + segments + sum(table)
        if position == len(tail):
            return False
        candidate = tail.find(b"OggS", candidate + 1)
    return True
