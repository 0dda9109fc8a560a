"""Streaming decode with PyAV: one pass over a file, in blocks of float32 PCM.

Every analyser consumes the same block stream (ARCHITECTURE.md principle 1), so a file is decoded
exactly once. Decoded frames are gathered into blocks of about ``block_frames`` sample frames; a
block carries

- ``pcm``: float32 samples shaped ``(channels, frames)`` (planar, like the codecs' own output, so
  no transpose is needed) at the file's own rate, in [-1, 1];
- ``native``: the decoder's own samples, from which :meth:`AudioDecoder.fingerprint_samples` makes
  the 16-bit mono 11025 Hz stream Chromaprint takes, with FFmpeg's own resampler exactly as
  ``fpcalc`` makes it, so fingerprints match. It is made only for the blocks that need it.

Memory is bounded by the block size whatever the length of the file. Foreign errors are translated
once, here: a file that yields no audio raises :class:`~wkmp_ai.errors.IngestError` with
``DECODE_ERROR``; an error after some audio has decoded skips the bad packet, keeps going, and is
reported through :attr:`AudioDecoder.problems` (the caller turns it into a ``PARTIAL_DECODE`` warning).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import av
import av.filter
import numpy as np

from wkmp_ai.audio.envelope import mono_mix
from wkmp_ai.errors import ErrorCode, IngestError

__all__ = ["FINGERPRINT_RATE", "AudioDecoder", "Block", "DecodeProblems", "StreamInfo", "open_audio"]

log = logging.getLogger(__name__)

FINGERPRINT_RATE = 11025
DEFAULT_BLOCK_FRAMES = 1 << 16
# After this many undecodable packets the rest of the file is given up on.
MAX_BAD_PACKETS = 100
# Raw PCM demuxers (WAV, W64) hand out 4 KiB packets by default: ~2000 packets for a 3-minute
# track, each costing more Python and PyAV overhead than its samples cost to analyse. 64 KiB
# packets halve the cost of reading a WAV file; larger ones cost more again (the stream probe
# reads whole packets, and big copies miss the cache). Other demuxers ignore the option.
PCM_PACKET = {"max_size": str(1 << 16)}
QUICK_PROBE = {"probesize": "65536", **PCM_PACKET}
# libswresample as Chromaprint's fpcalc configures it (its FFmpegAudioProcessor::SetCompatibleMode).
FPCALC_RESAMPLER = "filter_size=16:phase_shift=8:linear_interp=1:cutoff=0.8"

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

    @property
    def frames(self) -> int:
        return int(self.pcm.shape[1])


@dataclass
class DecodeProblems:
    """What went wrong while decoding, in a form a user can act on."""

    bad_packets: int = 0
    first_error_s: float | None = None
    first_message: str = ""
    gave_up: bool = False
    missing_s: float = 0.0  # audio the timestamps say was skipped (damaged data the demuxer stepped over)
    first_gap_s: float | None = None
    short_by_s: float = 0.0  # how much less audio than the file declares

    def note(self, at_s: float, message: str) -> None:
        self.bad_packets += 1
        if self.first_error_s is None:
            self.first_error_s = at_s
            self.first_message = message

    def note_gap(self, at_s: float, seconds: float) -> None:
        self.missing_s += seconds
        if self.first_gap_s is None:
            self.first_gap_s = at_s

    def __bool__(self) -> bool:
        return bool(self.bad_packets or self.gave_up or self.missing_s > 0 or self.short_by_s > 0)

    def describe(self) -> str:
        parts = []
        if self.bad_packets:
            where = f"{self.first_error_s:.3f} s" if self.first_error_s is not None else "the start"
            parts.append(f"{self.bad_packets} undecodable packet(s) from {where} ({self.first_message})")
        if self.gave_up:
            parts.append("the rest of the file was given up")
        if self.missing_s > 0:
            parts.append(f"{self.missing_s:.3f} s of damaged audio skipped from {self.first_gap_s:.3f} s")
        if self.short_by_s > 0:
            parts.append(f"{self.short_by_s:.3f} s less audio than the file declares (truncated?)")
        return "; ".join(parts)


def _native_array(frame: av.AudioFrame, fmt: str, channels: int) -> np.ndarray:
    """The frame's samples as numpy: planar (channels, n), or packed (1, n·channels) as a view, not a copy."""
    dtype = _DTYPES[fmt.rstrip("p")]
    n = frame.samples
    planes = frame.planes
    if fmt.endswith("p"):
        if len(planes) == 1:
            return np.frombuffer(planes[0], dtype, count=n).reshape(1, n)
        return np.vstack([np.frombuffer(plane, dtype, count=n) for plane in planes])
    return np.frombuffer(planes[0], dtype, count=n * channels).reshape(1, -1)


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
    """An open audio file: :attr:`info` at once, then :meth:`blocks` once."""

    def __init__(self, path: Path):
        self.path = path
        self.problems = DecodeProblems()
        self.frames_decoded = 0
        self._emitted = 0
        self._fp: _FingerprintFeed | None = None
        # A small probe first: FFmpeg's default (5 MB) costs ~40 ms on every WAV file. If that does
        # not reveal a usable audio stream, open again with the defaults.
        for options in (QUICK_PROBE, PCM_PACKET):
            try:
                self._container = av.open(str(path), mode="r", metadata_errors="ignore", options=options)
            except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
                if options is QUICK_PROBE:
                    continue
                raise IngestError(ErrorCode.DECODE_ERROR, f"cannot open audio: {exc}", path=str(path)) from exc
            self._stream = next((s for s in self._container.streams if s.type == "audio"), None)
            ctx = self._stream.codec_context if self._stream is not None else None
            rate = int(ctx.sample_rate or 0) if ctx is not None else 0
            channels = int(ctx.channels or 0) if ctx is not None else 0
            if rate > 0 and channels > 0:
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

    def _frames(self) -> Iterator[av.AudioFrame]:
        """Decoded frames; a bad packet is skipped and counted rather than ending the file."""
        problems = self.problems
        try:
            for packet in self._container.demux(self._stream):
                try:
                    frames = packet.decode()
                except (av.FFmpegError, ValueError) as exc:
                    problems.note(self.duration_s, str(exc))
                    if problems.bad_packets >= MAX_BAD_PACKETS:
                        problems.gave_up = True
                        return
                    continue
                yield from frames
        except (av.FFmpegError, OSError) as exc:  # the demuxer itself is lost: stop here
            problems.note(self.duration_s, f"demux: {exc}")
            problems.gave_up = True

    def blocks(self, *, block_frames: int = DEFAULT_BLOCK_FRAMES) -> Iterator[Block]:
        """Yield the whole file as blocks of ``block_frames`` sample frames (the last shorter, ``final``).

        Decoded frames go through an FFmpeg FIFO, so Python handles one array per block rather
        than one per codec frame (1024-4608 samples): that per-frame work would cost more than
        the analysis of the samples.
        """
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

        # Timestamps reveal audio a demuxer skipped over (damaged data): integers, not Fractions,
        # since this runs for every frame. Decoded frames carry the stream's time base.
        base = self._stream.time_base
        tb_num, tb_den = (base.numerator * rate, base.denominator) if base else (0, 1)
        expected: int | None = None  # where, by the timestamps, the next frame should start
        half, tolerance = tb_den // 2, rate // 500  # more than 2 ms missing is a gap
        queued = 0  # samples in the FIFO
        for frame in self._frames():
            n = frame.samples
            if n == 0:
                continue
            pts = frame.pts
            if pts is not None and tb_num:
                position = (pts * tb_num + half) // tb_den
                if expected is not None and position - expected > tolerance:
                    self.problems.note_gap(self.duration_s, (position - expected) / rate)
                expected = position + n
            frame.pts = None  # the FIFO checks timestamps for continuity; gaps are handled above
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
                for item in conform.resample(frame) if conform is not None else (frame,):
                    name = item.format.name
                    if name != fifo_format:
                        if name.rstrip("p") not in _DTYPES:
                            raise IngestError(
                                ErrorCode.DECODE_ERROR, f"unsupported sample format {name}", path=str(self.path)
                            )
                        if fifo.samples:  # the FIFO takes one format: hand on what it holds first
                            yield take(None, False)
                        fifo = av.AudioFifo()
                        fifo_format = name
                    item.pts = None
                    fifo.write(item)
                    self.frames_decoded += item.samples
                queued = fifo.samples
            while queued >= block_frames:
                yield take(block_frames, False)
                queued -= block_frames
        if self.frames_decoded == 0:
            detail = self.problems.first_message or "the stream holds no samples"
            raise IngestError(ErrorCode.DECODE_ERROR, f"no audio could be decoded: {detail}", path=str(self.path))
        declared = info.duration_hint_s
        short = (declared or 0.0) - self.duration_s - self.problems.missing_s
        if declared is not None and short > max(0.5, 0.01 * declared):
            self.problems.short_by_s = short
        yield take(None, True)

    def fingerprint_samples(self, block: Block) -> tuple[int, np.ndarray]:
        """The block as 11025 Hz mono s16, made by FFmpeg's resampler from the native samples as fpcalc does.

        Returns ``(index, samples)``: ``index`` is the position of the first sample in the 11025 Hz
        timeline of the file. Blocks may be skipped; the resampler then starts afresh at the next
        block asked for (the consumer only skips audio no fingerprint needs).
        """
        feed = self._fp
        if feed is None or feed.next_native != block.start or feed.fmt != block.fmt:
            feed = self._fp = _FingerprintFeed(self.info.sample_rate, block.start, block)
        return feed.feed(block)


def _layout(info: StreamInfo) -> str:
    return info.layout or ("mono" if info.channels == 1 else "stereo" if info.channels == 2 else f"{info.channels}c")


class _FingerprintFeed:
    """FFmpeg's resampler to 11025 Hz mono s16, set up as ``fpcalc`` sets it up, fed whole blocks.

    ``fpcalc`` (Chromaprint's FFmpeg reader) puts libswresample in its "compatible mode": a
    16-tap filter (FFmpeg's default is 32), 8 phase bits with linear interpolation, cutoff 0.8.
    The same settings here give Chromaprint the same samples, so the fingerprints are
    ``fpcalc``'s bit for bit, and the resampling costs a third less than with FFmpeg's defaults.

    A stereo file is mixed to mono here, in float, before the resampler: libswresample's own
    stereo-to-mono matrix is the plain mean, so Chromaprint gets the same samples (give or take
    a rounding) and the resampler has one channel to filter instead of two. Other layouts keep
    FFmpeg's downmix, whose centre and surround levels are its own.
    """

    def __init__(self, rate: int, start: int, block: Block):
        self.rate = rate
        self.fmt = block.fmt
        self.next_native = start
        self.index = round(start * FINGERPRINT_RATE / rate)
        self._mix_stereo = block.layout == "stereo"
        self._graph = graph = av.filter.Graph()  # the filters live as long as their graph
        if self._mix_stereo:
            self._source = graph.add_abuffer(format="flt", sample_rate=rate, layout="mono")
        else:
            self._source = graph.add_abuffer(format=block.fmt, sample_rate=rate, layout=block.layout)
        resample = graph.add("aresample", f"{FINGERPRINT_RATE}:{FPCALC_RESAMPLER}")
        mono16 = graph.add("aformat", f"sample_fmts=s16:sample_rates={FINGERPRINT_RATE}:channel_layouts=mono")
        self._sink = graph.add("abuffersink")
        self._source.link_to(resample)
        resample.link_to(mono16)
        mono16.link_to(self._sink)
        graph.configure()

    def _drain(self, parts: list[np.ndarray]) -> None:
        while True:
            try:
                frame = self._sink.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            parts.append(_mono16(frame))

    def feed(self, block: Block) -> tuple[int, np.ndarray]:
        parts: list[np.ndarray] = []
        if block.frames:
            frame = block.frame
            if self._mix_stereo:
                frame = av.AudioFrame.from_ndarray(mono_mix(block.pcm).reshape(1, -1), format="flt", layout="mono")
                frame.sample_rate = self.rate
            elif frame is None:
                frame = av.AudioFrame.from_ndarray(block.native, format=block.fmt, layout=block.layout)
                frame.sample_rate = self.rate
            frame.pts = None  # the resampler only times its output with it; samples do not depend on it
            self._source.push(frame)
            self._drain(parts)
        if block.final:
            self._source.push(None)
            self._drain(parts)
        out = np.concatenate(parts) if len(parts) > 1 else parts[0] if parts else np.zeros(0, np.int16)
        index = self.index
        self.index += len(out)
        self.next_native = block.start + block.frames
        return index, out


def _mono16(frame: av.AudioFrame) -> np.ndarray:
    return np.frombuffer(frame.planes[0], dtype=np.int16, count=frame.samples).copy()


def open_audio(path: str | Path) -> AudioDecoder:
    """Open ``path`` for streaming decode; raises IngestError(DECODE_ERROR) if it holds no usable audio."""
    path = Path(path)
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise IngestError(
            ErrorCode.FILE_UNREADABLE, f"cannot read file: {exc.strerror or exc}", path=str(path)
        ) from exc
    return AudioDecoder(path)
