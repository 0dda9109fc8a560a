"""The 11025 Hz mono s16 stream Chromaprint takes, made from decoded blocks as ``fpcalc`` makes it.

The system's libswresample (:mod:`wkmp_ai.audio.swresample`) when it loads, else PyAV's own
resampler through a filter graph, both with Chromaprint's "compatible mode" settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import av
import av.filter
import numpy as np

from wkmp_ai.audio.swresample import SystemResampler

if TYPE_CHECKING:
    from wkmp_ai.audio.decode import Block

__all__ = ["FINGERPRINT_RATE", "FingerprintFeed"]

FINGERPRINT_RATE = 11025
# libswresample as Chromaprint's fpcalc configures it (its FFmpegAudioProcessor::SetCompatibleMode).
FPCALC_RESAMPLER = "filter_size=16:phase_shift=8:linear_interp=1:cutoff=0.8"


class FingerprintFeed:
    """libswresample to 11025 Hz mono s16, set up as ``fpcalc`` sets it up, fed whole blocks.

    ``fpcalc`` (Chromaprint's FFmpeg reader) puts libswresample in its "compatible mode": a
    16-tap filter (FFmpeg's default is 32), 8 phase bits with linear interpolation, cutoff 0.8.
    The same library (the system's, :mod:`wkmp_ai.audio.swresample`) with the same settings gives
    Chromaprint the same samples, so the fingerprints are ``fpcalc``'s bit for bit; without it,
    PyAV's own resampler with those settings comes within a rounding. The settings also make the
    resampling a third cheaper than FFmpeg's defaults.

    A stereo file decoded to float is mixed to mono here, before the resampler: libswresample's
    own stereo-to-mono matrix is the plain mean, so Chromaprint gets the same samples and the
    resampler has one channel to filter instead of two. Integer PCM (FLAC, WAV, ALAC: resampled in
    16-bit fixed point, where a float mean would differ by a rounding now and then) and other
    layouts go to the resampler as they are, and get its own downmix, as ``fpcalc``'s do.
    """

    def __init__(self, rate: int, start: int, block: Block):
        self.rate = rate
        self.fmt = block.fmt
        self.next_native = start
        self.index = round(start * FINGERPRINT_RATE / rate)
        self._mix_stereo = block.layout == "stereo" and block.fmt in ("flt", "fltp")
        fmt, layout = ("flt", "mono") if self._mix_stereo else (block.fmt, block.layout)
        channels = 1 if self._mix_stereo else block.pcm.shape[0]
        self._system: SystemResampler | None = None
        try:
            self._system = SystemResampler(
                rate=rate, fmt=fmt, layout=layout, channels=channels, out_rate=FINGERPRINT_RATE
            )
            return
        except OSError:
            pass
        self._graph = graph = av.filter.Graph()  # the filters live as long as their graph
        self._source = graph.add_abuffer(format=fmt, sample_rate=rate, layout=layout)
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

    @staticmethod
    def _mono(block: Block) -> np.ndarray:
        """The stereo block's mean, (1, n) float32: its channel sum (made once per block) halved."""
        return np.multiply(block.channel_sum, np.float32(0.5)).reshape(1, -1)

    def _resample(self, block: Block) -> list[np.ndarray]:
        parts: list[np.ndarray] = []
        system = self._system
        if block.frames:
            if system is not None:
                native = self._mono(block) if self._mix_stereo else block.native
                parts.append(system.convert(native))
            else:
                frame = block.frame
                if self._mix_stereo:
                    frame = av.AudioFrame.from_ndarray(self._mono(block), format="flt", layout="mono")
                    frame.sample_rate = self.rate
                elif frame is None:
                    frame = av.AudioFrame.from_ndarray(block.native, format=block.fmt, layout=block.layout)
                    frame.sample_rate = self.rate
                frame.pts = None  # the resampler only times its output with it; samples do not depend on it
                self._source.push(frame)
                self._drain(parts)
        if block.final:
            if system is not None:
                parts.append(system.convert(None))
            else:
                self._source.push(None)
                self._drain(parts)
        return parts

    def feed(self, block: Block) -> tuple[int, np.ndarray]:
        parts = self._resample(block)
        out = np.concatenate(parts) if len(parts) > 1 else parts[0] if parts else np.zeros(0, np.int16)
        index = self.index
        self.index += len(out)
        self.next_native = block.start + block.frames
        return index, out


def _mono16(frame: Any) -> np.ndarray:
    """One packed 16-bit mono frame as samples (``frame`` is an av.AudioFrame; its plane a buffer)."""
    return np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16, count=frame.samples).copy()
