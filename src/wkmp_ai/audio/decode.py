"""Streaming decode: one pass over a file, in blocks of float32 PCM.

PyAV opens and probes the file; our C loop over the system's FFmpeg (:mod:`wkmp_ai.audio.avdecode`)
reads its samples, or PyAV's own loop when that is not built or will not open the file.

Every analyser consumes the same block stream (docs/design.md, *Layers*: one decode per file), so a file is decoded
exactly once. Decoded frames are gathered into blocks of about ``block_frames`` sample frames; a
block carries

- ``pcm``: float32 samples shaped ``(channels, frames)`` (planar, like the codecs' own output, so
  no transpose is needed) at the file's own rate, in [-1, 1];
- ``native``: the decoder's own samples, from which :meth:`AudioDecoder.fingerprint_samples` makes
  the 16-bit mono 11025 Hz stream Chromaprint takes, with the resampler ``fpcalc`` uses, exactly
  as it makes it, so fingerprints match (:mod:`wkmp_ai.audio.fpstream`). It is made only for the
  blocks that need it.

Memory is bounded by the block size whatever the length of the file. Foreign errors are translated
once, here: a file that yields no audio raises :class:`~wkmp_ai.errors.IngestError` with
``DECODE_ERROR``; an error after some audio has decoded skips the bad packet, keeps going, and is
reported through :attr:`AudioDecoder.problems` (the caller turns it into a ``PARTIAL_DECODE`` warning).

Damage is reported only on evidence (:mod:`wkmp_ai.audio.damage`); frame timestamps are not.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import av.filter
import av.logging
import numpy as np

from wkmp_ai.audio.avdecode import NativeStream, Status, sample_format
from wkmp_ai.audio.damage import (
    BITRATE_ESTIMATE,
    ERROR_LEVEL,
    SHORT_TOLERANCE,
    SHORT_TOLERANCE_S,
    DecodeProblems,
    FFmpegLog,
    ffmpeg_message,
    ogg_ends_inside_a_page,
    plain_message,
    wav_data_missing,
)
from wkmp_ai.audio.envelope import channel_sum
from wkmp_ai.audio.fpstream import FINGERPRINT_RATE, FingerprintFeed
from wkmp_ai.audio.oggrepair import HEAD_BYTES, MAX_BYTES, repeats_headers, without_repeated_headers
from wkmp_ai.errors import ErrorCode, IngestError
from wkmp_ai.ticks import TICKS_PER_SECOND

__all__ = [
    "BLOCK_SAMPLES",
    "FINGERPRINT_RATE",
    "AudioDecoder",
    "Block",
    "DecodeProblems",
    "StreamInfo",
    "frames_per_block",
    "open_audio",
]

log = logging.getLogger(__name__)

MAX_CHAPTERS = 999  # more chapters than this are not tracks
# A block holds about this many samples of all its channels (4 MB as float32): few enough blocks
# that the work paid per block (Python calls, fresh arrays) stays small beside the samples' own —
# 65,536-frame stereo blocks cost 6-9 % more analysis time — and far below a worker's memory cap
# whatever the channel count (docs/audio.md, Performance).
BLOCK_SAMPLES = 1 << 20
# After this many undecodable packets the rest of the file is given up on.
MAX_BAD_PACKETS = 100
# Raw PCM demuxers (WAV, W64) hand out 4 KiB packets by default: ~2000 packets for a 3-minute
# track, each costing more Python and PyAV overhead than its samples cost to analyse. 64 KiB
# packets halve the cost of reading a WAV file; larger ones cost more again (the stream probe
# reads whole packets, and big copies miss the cache). Other demuxers ignore the option.
PCM_PACKET = {"max_size": str(1 << 16)}
QUICK_PROBE = {"probesize": "65536", **PCM_PACKET}

_CONTAINER_NAMES = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "matroska"}
_DTYPES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "s64": np.int64, "flt": np.float32, "dbl": np.float64}
_PACKED_INT = ("s16", "s32")
_SCALE = {"u8": 1 / 128, "s16": 1 / 32768, "s32": 1 / 2147483648, "s64": 1 / 9223372036854775808}


@dataclass(frozen=True)
class StreamInfo:
    format: str
    codec: str
    sample_rate: int
    channels: int
    layout: str
    duration_hint_s: float | None  # from the container; the decoded length is the truth


@dataclass
class Block:
    start: int  # index of the block's first sample frame in the file
    pcm: np.ndarray  # float32 (channels, frames); may be a strided view of interleaved samples
    native: np.ndarray  # the decoder's own samples: (channels, frames) planar or (1, frames·channels)
    fmt: str  # FFmpeg sample format of ``native``
    layout: str
    final: bool = False
    frame: av.AudioFrame | None = field(default=None, repr=False)  # the same samples, for FFmpeg
    summed: np.ndarray | None = field(default=None, repr=False)  # the channels' sum, once made

    @property
    def frames(self) -> int:
        return int(self.pcm.shape[1])

    @property
    def channel_sum(self) -> np.ndarray:
        """The channels' sum (the mono mix times the channel count), made once for every consumer:
        the analysis hands the envelope stage's to the fingerprint and the editor's peaks."""
        if self.summed is None:
            self.summed = channel_sum(self.pcm)
        return self.summed


def _view(plane: Any) -> memoryview:
    """A plane's bytes (an AudioPlane is a buffer; PyAV's type stubs do not say so)."""
    return memoryview(plane)


def _native_array(frame: av.AudioFrame, fmt: str, channels: int) -> np.ndarray:
    """The frame's samples as numpy: planar (channels, n), or packed (1, n·channels) as a view, not a copy."""
    dtype = _DTYPES[fmt.rstrip("p")]
    n = frame.samples
    planes = frame.planes
    if fmt.endswith("p"):
        if len(planes) == 1:
            return np.frombuffer(_view(planes[0]), dtype, count=n).reshape(1, n)
        return np.vstack([np.frombuffer(_view(plane), dtype, count=n) for plane in planes])
    return np.frombuffer(_view(planes[0]), dtype, count=n * channels).reshape(1, -1)


def _to_float(native: np.ndarray, fmt: str, channels: int) -> np.ndarray:
    """Native samples, (channels, n) planar or (1, n*channels) packed, to float32 (channels, n) planar.

    The result is C-contiguous: every later pass reads each channel as one contiguous row (on a
    strided view of interleaved samples those passes cost 2-4x as much as the conversion saves).
    """
    base = fmt.rstrip("p")
    data = native if fmt.endswith("p") else native.reshape(-1, channels).T
    if base == "flt":
        return np.ascontiguousarray(data)
    if base == "dbl":
        return np.ascontiguousarray(data, dtype=np.float32)
    if base == "u8":
        data = data.astype(np.int16) - 128
    out = np.empty(data.shape, np.float32)
    np.multiply(data, np.float32(_SCALE[base]), out=out, dtype=np.float32)
    return out


class AudioDecoder:
    """An open audio file: :attr:`info` at once, then :meth:`blocks` once.

    ``native``: read the samples with our C loop over the system's FFmpeg when it is built
    (:mod:`wkmp_ai.audio.avdecode`); False, or a file it will not open, decodes with PyAV.
    """

    def __init__(self, path: Path, *, native: bool = True):
        self.path = path
        self.native = native
        self.decoded_by = "pyav"
        self.problems = DecodeProblems()
        self.frames_decoded = 0
        self._emitted = 0
        self._fp: FingerprintFeed | None = None
        self._log = FFmpegLog()
        repaired = _repaired_ogg_vorbis(path)
        if repaired is not None:
            self.native = False  # our C loop opens paths; PyAV reads the repaired stream from memory
            log.info("%s repeats its Vorbis headers inside the audio; decoded without them, as libvorbis does", path)
        # A small probe first: FFmpeg's default (5 MB) costs ~40 ms on every WAV file. If that does
        # not reveal a usable audio stream, open again with the defaults.
        for options in (QUICK_PROBE, PCM_PACKET):
            self._log.start()
            source: str | io.BytesIO = str(path) if repaired is None else io.BytesIO(repaired)
            try:
                self._container = av.open(source, mode="r", metadata_errors="ignore", options=options)
            except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
                self._log.stop()
                if options is QUICK_PROBE:
                    continue
                raise IngestError(
                    ErrorCode.DECODE_ERROR, f"cannot open audio: {ffmpeg_message(exc)}", path=str(path)
                ) from exc
            opened_log = self._log.stop()
            self._stream = next((s for s in self._container.streams if s.type == "audio"), None)
            ctx: Any = self._stream.codec_context if self._stream is not None else None  # an audio codec context
            rate = int(ctx.sample_rate or 0) if ctx is not None else 0
            channels = int(ctx.channels or 0) if ctx is not None else 0
            if rate > 0 and channels > 0:
                self._quick_probe = options is QUICK_PROBE
                break
            self._container.close()
        else:
            reason = (
                "no audio stream in the file" if self._stream is None else "audio stream has no sample rate or channels"
            )
            raise IngestError(ErrorCode.DECODE_ERROR, reason, path=str(path))
        assert self._stream is not None and ctx is not None
        # One thread per decoder: the import runs one file per core already, and decoder threads
        # would only add CPU time (FLAC frame threads cost ~2× the CPU for the same wall time).
        ctx.thread_count = 1
        # Planar output from decoders that offer it (FLAC): the analysis works on one channel at a
        # time, and the decoder then skips interleaving what we would de-interleave again.
        native_format = ctx.format.name if ctx.format is not None else ""
        if native_format in _PACKED_INT:
            ctx.options = {**ctx.options, "request_sample_fmt": native_format + "p"}
        duration = None
        if self._stream.duration is not None and self._stream.time_base is not None:
            duration = float(self._stream.duration * self._stream.time_base)
        elif self._container.duration is not None:
            duration = self._container.duration / 1_000_000
        # A length FFmpeg guessed from the bit rate is not the file's declaration: no truncation check.
        self.declared_s = None if any(BITRATE_ESTIMATE in m for _, _, m in opened_log) else duration
        # Errors while probing the stream are evidence too: the packets read then are not read again.
        for level, _name, message in opened_log:
            if level <= ERROR_LEVEL and message.strip():
                self.problems.note_logged(None, message.strip())
        fmt_name = self._container.format.name
        self.info = StreamInfo(
            format=_CONTAINER_NAMES.get(fmt_name, fmt_name.split(",")[0]),
            codec=ctx.name,
            sample_rate=rate,
            channels=channels,
            layout=ctx.layout.name if ctx.layout else "",
            duration_hint_s=duration,
        )

    def __enter__(self) -> AudioDecoder:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    @property
    def duration_s(self) -> float:
        return self.frames_decoded / self.info.sample_rate

    def chapters(self) -> list[tuple[int, str | None]]:
        """The container's chapters (MP4, Matroska) as (start in ticks, title); [] when it has none."""
        try:
            found = self._container.chapters()
        except (av.FFmpegError, AttributeError, ValueError):
            return []
        out = []
        for chapter in found[:MAX_CHAPTERS]:
            start, base = chapter.get("start"), chapter.get("time_base")
            if isinstance(start, int) and base:
                title = (chapter.get("metadata") or {}).get("title")
                out.append((int(Fraction(start) * base * TICKS_PER_SECOND), title))
        return out

    def _frames(self) -> Iterator[av.AudioFrame]:
        """Decoded frames; a bad packet is skipped and counted rather than ending the file."""
        problems = self.problems
        decode = self._stream.codec_context.decode  # type: ignore[union-attr]  # Packet.decode goes through the stream to this
        try:
            for packet in self._container.demux(self._stream):
                if packet.is_corrupt:
                    problems.note_corrupt(self.duration_s)
                try:
                    frames = decode(packet)
                except (av.FFmpegError, ValueError) as exc:
                    problems.note(self.duration_s, ffmpeg_message(exc))
                    if problems.bad_packets >= MAX_BAD_PACKETS:
                        problems.gave_up = True
                        return
                    continue
                yield from frames  # an audio stream decodes to audio frames (no cast: it is per packet)
        except (av.FFmpegError, OSError) as exc:  # the demuxer itself is lost: stop here
            problems.note(self.duration_s, f"the file cannot be read further: {ffmpeg_message(exc)}")
            problems.gave_up = True

    def _logged(self) -> None:
        """Count the errors FFmpeg logged since the capture started (and start it afresh)."""
        for level, _name, message in self._log.stop():
            if level <= ERROR_LEVEL and message.strip():
                self.problems.note_logged(self.duration_s, message.strip())
        self._log.start()

    def blocks(self, *, block_frames: int | None = None) -> Iterator[Block]:
        """Yield the whole file as blocks of ``block_frames`` sample frames (the last shorter, ``final``);
        by default :func:`frames_per_block` for the file's channels.

        Python handles one array per block rather than one per codec frame (1024-4608 samples):
        that per-frame work would cost more than the analysis of the samples. Our C loop fills
        each block in one call; PyAV's loop gathers the frames in an FFmpeg FIFO.
        """
        info = self.info
        if block_frames is None:
            block_frames = frames_per_block(info.channels)
        stream = None
        if self.native and self._stream is not None:
            stream = NativeStream.open(
                self.path, self._stream.index, info.sample_rate, info.channels, quick=self._quick_probe
            )
        if stream is not None:
            self.decoded_by = "native"
            try:
                yield from self._native_blocks(stream, block_frames)
            finally:
                stream.close()
            return
        self._log.start()
        try:
            yield from self._blocks(block_frames)
        finally:
            self._log.stop()

    def _native_blocks(self, stream: NativeStream, block_frames: int) -> Iterator[Block]:
        """The blocks from our C loop: the same shapes, formats and evidence as :meth:`_blocks`."""
        channels, status = self.info.channels, stream.status
        room = np.empty(0, np.uint8)
        while True:
            pcm = np.empty((channels, block_frames), np.float32)
            if room.size == 0:  # a fresh buffer per block: a consumer may keep a block's arrays
                room = np.empty(channels * block_frames * 8, np.uint8)
            n = stream.read(pcm, room, block_frames)
            self.frames_decoded = status.decoded
            final = bool(status.finished)
            if final:
                self._add_native_problems(status)
                if self.frames_decoded == 0:
                    raise self._nothing_decoded()
                self._check_length()
            native: np.ndarray
            if n == 0:
                pcm, native, fmt, layout = np.zeros((channels, 0), np.float32), np.zeros((1, 0), np.int16), "s16", ""
            else:
                fmt, layout = sample_format(status.sample_fmt), status.layout.decode(errors="replace")
                if n < block_frames:
                    pcm = np.ascontiguousarray(pcm[:, :n])
                if status.native_is_pcm:
                    native = pcm
                else:
                    dtype = np.dtype(_DTYPES[fmt.rstrip("p")])
                    if fmt.endswith("p"):
                        rows = room[: channels * block_frames * dtype.itemsize].view(dtype).reshape(channels, -1)
                        native = np.ascontiguousarray(rows[:, :n])
                    else:
                        native = room[: n * channels * dtype.itemsize].view(dtype).reshape(1, -1)
                    room = np.empty(0, np.uint8)
            yield Block(self._emitted, pcm, native, fmt, layout or self.info.layout, final)
            self._emitted += n
            if final:
                return

    def _add_native_problems(self, status: Status) -> None:
        """The C loop's counts of damage, added to what the PyAV probe found."""
        rate, problems = self.info.sample_rate, self.problems
        if status.converted:
            log.info("%s: audio format changes mid-stream; converting", self.path)
        if status.bad_packets:
            problems.add_bad(status.bad_packets, status.first_bad_at / rate, plain_message(status.first_bad.decode()))
        if status.corrupt_packets:
            problems.add_corrupt(status.corrupt_packets, status.first_corrupt_at / rate)
        if status.logged_errors:
            problems.add_logged(status.logged_errors, status.first_logged_at / rate, status.first_logged.decode())
        if status.gave_up:
            problems.gave_up = True
            if status.gave_up_reason:
                reason = plain_message(status.gave_up_reason.decode(errors="replace"))
                problems.note(self.duration_s, f"the file cannot be read further: {reason}")

    def _blocks(self, block_frames: int) -> Iterator[Block]:
        info = self.info
        channels, rate = info.channels, info.sample_rate
        # Frames that differ from the stream's own shape (chained Ogg, odd MP3s) are converted to it.
        conform: av.AudioResampler | None = None
        fifo = av.AudioFifo()
        fifo_format = ""

        def take(count: int | None, final: bool) -> Block:
            frame = fifo.read(count) if count else fifo.read()
            if frame is None:
                native, fmt, layout = np.zeros((1, 0), np.int16), "s16", info.layout
                pcm, frame = np.zeros((channels, 0), np.float32), None
            else:
                fmt, layout = frame.format.name, frame.layout.name
                native = _native_array(frame, fmt, channels)
                pcm = _to_float(native, fmt, channels)
            block = Block(self._emitted, pcm, native, fmt, layout, final, frame)
            self._emitted += pcm.shape[1]
            return block

        def emit(count: int | None, final: bool) -> Block:
            """A block, with what FFmpeg logged while it decoded counted (never capturing across a yield)."""
            self._logged()
            self._log.stop()
            return take(count, final)

        queued = 0  # samples in the FIFO
        for frame in self._frames():
            n = frame.samples
            if n == 0:
                continue
            frame.pts = None  # the FIFO would check timestamps for continuity; they are not evidence
            if (
                conform is None
                and frame.format.name == fifo_format
                and frame.sample_rate == rate
                and frame.layout.nb_channels == channels
            ):  # the frame is like the ones before it (the usual case): straight into the FIFO
                fifo.write(frame)
                self.frames_decoded += n
                queued += n
            else:
                if conform is None and (frame.sample_rate != rate or frame.layout.nb_channels != channels):
                    log.info("%s: audio format changes mid-stream; converting", self.path)
                    conform = av.AudioResampler(format="fltp", layout=_layout(info), rate=rate)
                    fifo_format = ""  # the converted frames start a FIFO of their own (another time base)
                try:
                    items = conform.resample(frame) if conform is not None else [frame]
                except (av.FFmpegError, ValueError) as exc:
                    self.problems.note(self.duration_s, ffmpeg_message(exc))
                    continue
                for item in items:
                    name = item.format.name
                    if name != fifo_format:
                        if name.rstrip("p") not in _DTYPES:
                            raise IngestError(
                                ErrorCode.DECODE_ERROR, f"unsupported sample format {name}", path=str(self.path)
                            )
                        if fifo.samples:  # the FIFO takes one format: hand on what it holds first
                            yield emit(None, False)
                            self._log.start()
                        fifo = av.AudioFifo()
                        fifo_format = name
                    item.pts = None
                    try:
                        fifo.write(item)
                    except ValueError as exc:  # a frame unlike the FIFO's (damaged data): skipped
                        self.problems.note(self.duration_s, f"audio in an unexpected form ({exc})")
                        continue
                    self.frames_decoded += item.samples
                queued = fifo.samples
            while queued >= block_frames:
                yield emit(block_frames, False)
                self._log.start()
                queued -= block_frames
        self._logged()
        if self.frames_decoded == 0:
            raise self._nothing_decoded()
        self._check_length()
        yield emit(None, True)

    def _nothing_decoded(self) -> IngestError:
        detail = self.problems.first_logged or self.problems.first_message or "the stream holds no samples"
        return IngestError(ErrorCode.DECODE_ERROR, f"no audio could be decoded: {detail}", path=str(self.path))

    def _check_length(self) -> None:
        """Truncation: less audio than the container declares, or an Ogg file ending inside a page."""
        declared = self.declared_s
        short = (declared or 0.0) - self.duration_s
        if declared is not None and short > max(SHORT_TOLERANCE_S, SHORT_TOLERANCE * declared):
            self.problems.short_by_s = short
            self.problems.declared_s = declared
        if self.info.format == "ogg" and ogg_ends_inside_a_page(self.path):
            self.problems.cut_short = "the file ends part-way through its last Ogg page (truncated)"
        elif self.info.format == "wav" and (missing := wav_data_missing(self.path)):
            self.problems.cut_short = f"the file ends {missing:,} bytes before the end of its audio data (truncated)"

    def fingerprint_samples(self, block: Block) -> tuple[int, np.ndarray]:
        """The block as 11025 Hz mono s16, made by FFmpeg's resampler from the native samples as fpcalc does.

        Returns ``(index, samples)``: ``index`` is the position of the first sample in the 11025 Hz
        timeline of the file. Blocks may be skipped; the resampler then starts afresh at the next
        block asked for (the consumer only skips audio no fingerprint needs).
        """
        feed = self._fp
        if feed is None or feed.next_native != block.start or feed.fmt != block.fmt:
            feed = self._fp = FingerprintFeed(self.info.sample_rate, block.start, block)
        return feed.feed(block)


def _repaired_ogg_vorbis(path: Path) -> bytes | None:
    """An Ogg Vorbis file that repeats its headers inside the audio, without them (FFmpeg would not
    open it whole: :mod:`wkmp_ai.audio.oggrepair`); None for every other file."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
            # Ogg whose first packet is a Vorbis identification header: page header 27 bytes + 1 lacing value.
            if not (head.startswith(b"OggS") and head[28:35] == b"\x01vorbis" and repeats_headers(head)):
                return None
            fh.seek(0)
            data = fh.read(MAX_BYTES + 1)
    except OSError:
        return None  # the open below reports it
    return None if len(data) > MAX_BYTES else without_repeated_headers(data)


def _layout(info: StreamInfo) -> str:
    return info.layout or ("mono" if info.channels == 1 else "stereo" if info.channels == 2 else f"{info.channels}c")


def open_audio(path: str | Path, *, native: bool = True) -> AudioDecoder:
    """Open ``path`` for streaming decode; raises IngestError(DECODE_ERROR) if it holds no usable audio."""
    path = Path(path)
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise IngestError(
            ErrorCode.FILE_UNREADABLE, f"cannot read file: {exc.strerror or exc}", path=str(path)
        ) from exc
    return AudioDecoder(path, native=native)


def frames_per_block(channels: int, multiple: int = 1) -> int:
    """Frames in a block of ``channels`` channels: about :data:`BLOCK_SAMPLES` samples, a multiple of
    ``multiple`` (the analysis asks for whole envelope hops)."""
    return multiple * max(1, BLOCK_SAMPLES // max(1, channels) // multiple)
