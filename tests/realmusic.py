"""Real recorded music for the tests: Debian's free game soundtracks, fetched once and cached.

``singularity-music`` (17 Ogg Vorbis tracks, 48 kHz) and ``fretsonfire-songs-sectoid`` (4 songs,
each a mix and a guitar stem, Ogg Vorbis 44.1 kHz) are fetched with ``apt-get download`` and
unpacked with ``dpkg-deb`` into a cache outside the repository, ``~/.cache/wkmp-ai/test-music``
(``WKMP_TEST_MUSIC`` overrides it); ~80 MB, a few seconds on a Debian mirror. Tracks are transcoded
with PyAV to every format the import reads (:data:`TRANSCODES`), cached beside them. A test that
needs another package names it (``corpus(("hyperrogue-music",))``, 64 MB: Ogg Vorbis files that
repeat their headers, tests/audio/test_ogg_repair.py).

:func:`corpus` returns the cache folder, or raises :class:`CorpusUnavailable` with the reason when
the package registry cannot be reached; the tests turn that into a skip that says so.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = [
    "PACKAGES",
    "TRANSCODES",
    "CorpusUnavailable",
    "cache_dir",
    "corpus",
    "join_with_silence",
    "original_tracks",
    "transcode",
]

PACKAGES = ("singularity-music", "fretsonfire-songs-sectoid")


class CorpusUnavailable(Exception):
    """The packages could not be fetched (no registry, no apt); the message says why."""


@dataclass(frozen=True)
class Transcode:
    container: str
    codec: str
    suffix: str
    sample_fmt: str
    rate: int | None = None  # None: keep the source's rate
    bit_rate: int | None = None
    options: tuple[tuple[str, str], ...] = ()


TRANSCODES: dict[str, Transcode] = {
    "flac": Transcode("flac", "flac", ".flac", "s16"),
    # LAME's and FFmpeg's AAC encoders at their fast settings: the tests need real codecs, not the
    # best sound, and the slow settings took 5-10 s per 100 s of audio.
    "mp3": Transcode("mp3", "libmp3lame", ".mp3", "fltp", bit_rate=192_000, options=(("compression_level", "7"),)),
    "m4a": Transcode("ipod", "aac", ".m4a", "fltp", bit_rate=160_000, options=(("aac_coder", "fast"),)),
    "opus": Transcode("ogg", "libopus", ".opus", "flt", rate=48000, bit_rate=128_000),
    "ogg": Transcode("ogg", "vorbis", ".ogg", "fltp", options=(("strict", "experimental"),)),
    "wav": Transcode("wav", "pcm_s16le", ".wav", "s16"),
}


def cache_dir() -> Path:
    return Path(os.environ.get("WKMP_TEST_MUSIC") or "~/.cache/wkmp-ai/test-music").expanduser()


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def _fetch(package: str, into: Path) -> None:
    """``apt-get download`` the package (updating the package lists once if apt does not know it) and unpack it."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise CorpusUnavailable("apt-get and dpkg-deb are needed to fetch the test music (a Debian system)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # apt's sandbox user may then write here too
        out = _run(["apt-get", "download", package], work)
        if out.returncode != 0:
            _run(["apt-get", "update", "-q"], work)
            out = _run(["apt-get", "download", package], work)
        debs = sorted(work.glob(f"{package}_*.deb"))
        if out.returncode != 0 or not debs:
            reason = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no .deb was written"]
            raise CorpusUnavailable(f"cannot fetch the Debian package {package}: {reason[0]}")
        unpacked = work / "x"
        out = _run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], work)
        if out.returncode != 0:
            raise CorpusUnavailable(f"cannot unpack {debs[0].name}: {out.stderr.strip()}")
        target = into / package
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(unpacked), target)


def corpus(packages: Iterable[str] = PACKAGES) -> Path:
    """The cache folder holding every package of ``packages`` (by default :data:`PACKAGES`), fetched
    on first use; a test that needs one more package (``hyperrogue-music``) names it."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test runs in parallel (other checkouts) fetch it once
        for package in packages:
            done = root / f"{package}.done"
            if not done.exists():
                _fetch(package, root)
                done.touch()
    return root


def original_tracks(root: Path) -> list[Path]:
    """Every Ogg file of the packages, sorted."""
    return sorted(p for package in PACKAGES for p in (root / package).rglob("*.ogg"))


def _safe_name(track: Path, root: Path) -> str:
    rel = track.relative_to(root).with_suffix("")
    return "-".join(rel.parts[-2:]).replace(" ", "_")


def _decoded(source: Path) -> Iterator[av.AudioFrame]:
    with av.open(str(source)) as src:
        for frame in src.decode(audio=0):
            frame.pts = None
            yield frame


def _encode(out_path: Path, spec: Transcode, frames: Iterable[av.AudioFrame], rate: int) -> None:
    """Encode ``frames`` (any format, stereo) with ``spec`` at ``rate``; written via a temporary name."""
    tmp = out_path.with_name(f"{out_path.stem}.part{os.getpid()}{spec.suffix}")  # renamed when whole
    with av.open(str(tmp), "w", format=spec.container) as out:
        stream = out.add_stream(spec.codec, rate=rate, options=dict(spec.options))
        stream.layout = "stereo"
        stream.format = spec.sample_fmt
        if spec.bit_rate:
            stream.bit_rate = spec.bit_rate
        stream.time_base = Fraction(1, rate)
        resampler = av.AudioResampler(format=spec.sample_fmt, layout="stereo", rate=rate)
        frame_size = stream.codec_context.frame_size or 4096
        fifo = av.AudioFifo()
        pts = 0

        def flush(final: bool) -> None:
            nonlocal pts
            while fifo.samples >= frame_size or (final and fifo.samples):
                chunk = fifo.read(min(frame_size, fifo.samples))
                chunk.pts = pts
                chunk.time_base = Fraction(1, rate)
                pts += chunk.samples
                for packet in stream.encode(chunk):
                    out.mux(packet)

        def feed(frame: av.AudioFrame | None) -> None:
            for item in resampler.resample(frame):
                item.pts = None
                fifo.write(item)
            flush(frame is None)

        for frame in frames:
            feed(frame)
        feed(None)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.replace(out_path)


def transcode(track: Path, fmt: str, root: Path) -> Path:
    """``track`` in format ``fmt`` (a :data:`TRANSCODES` key), made once and cached under ``root``."""
    spec = TRANSCODES[fmt]
    out_dir = root / "transcodes"
    out_dir.mkdir(exist_ok=True)
    out_path = out_dir / (_safe_name(track, root) + spec.suffix)
    if not out_path.exists():
        with av.open(str(track)) as src:
            rate = spec.rate or src.streams.audio[0].codec_context.sample_rate
        _encode(out_path, spec, _decoded(track), rate)
    return out_path


def join_with_silence(tracks: list[Path], gap_s: float, out_path: Path, *, rate: int = 48000) -> list[float]:
    """One stereo FLAC of the tracks with ``gap_s`` of digital silence between them.

    Returns the start time of each track in the result (seconds). Each track's own leading and
    trailing quiet is kept, so each gap of true digital silence is at least ``gap_s`` long.
    """
    starts: list[float] = []

    def pieces() -> Iterator[av.AudioFrame]:
        position = 0
        for index, track in enumerate(tracks):
            if index:
                gap = av.AudioFrame.from_ndarray(
                    np.zeros((1, 2 * round(gap_s * rate)), np.int16), format="s16", layout="stereo"
                )
                gap.sample_rate = rate
                yield gap
                position += gap.samples
            starts.append(position / rate)
            # Each track through its own resampler, flushed: its length is exactly its own.
            resampler = av.AudioResampler(format="s16", layout="stereo", rate=rate)
            for frame in [*_decoded(track), None]:
                for item in resampler.resample(frame):
                    item.pts = None
                    yield item
                    position += item.samples

    _encode(out_path, TRANSCODES["flac"], pieces(), rate)
    return starts
