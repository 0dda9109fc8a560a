"""Hostile audio files for the fuzzing run: seeded mutations of small real files, and a run of
``wkmp-ai import`` over them that is watched and accounted for.

Seeds: a 1.5 s file per format (MP3, FLAC, Ogg Vorbis, MP4/AAC, WAV, AIFF), tagged, the MP3, FLAC
and MP4 ones with an embedded cover. Mutations (each input is one seed and one of them, chosen by a
seeded RNG, so a failing input can be made again from its name):

    truncate     cut at a random byte
    flip         1-32 random bytes overwritten, mostly in the first 4 KB (the headers)
    size         an absurd value in a size field: a chunk/atom/block length, an ID3 size, a sample
                 count, a channel count or sample rate (0, 0x7fffffff, 0xffffffff)
    splice       a piece of another seed's bytes pasted in
    nest         (MP4) thousands of nested atoms
    tagbomb      a tag frame of megabytes (ID3 TXXX, a FLAC picture block, an MP4 ``covr``)
    artbomb      an embedded picture whose header claims 20000 x 20000 pixels, or a real 7000 x 7000 PNG
    empty        0 bytes
    sparse       a real header and frames, then a hole of gigabytes (costs no disk)

Folder images go with some inputs: ``cover.png`` bombs next to the audio.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TIT2, TPE1
from mutagen.mp4 import MP4, MP4Cover
from PIL import Image

from tests.conftest import offline_env
from tests.synth import music_like, write_audio

__all__ = ["MUTATIONS", "SEED_FORMATS", "FuzzRun", "make_inputs", "make_seeds", "run_import"]

SEED_FORMATS = {"mp3": ".mp3", "flac": ".flac", "ogg": ".ogg", "m4a": ".m4a", "wav": ".wav", "aiff": ".aiff"}
MUTATIONS = ("truncate", "flip", "size", "splice", "nest", "tagbomb", "artbomb", "empty", "sparse")
_WEIGHTS = (20, 30, 25, 8, 3, 4, 4, 2, 2)
_ABSURD = (0, 0x7FFFFFFF, 0xFFFFFFFF, 0x7F7F7F7F)


def _jpeg(size: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (20, 80, 160)).save(out, "JPEG")
    return out.getvalue()


def png_bomb_header(side: int = 20000) -> bytes:
    """A PNG whose header claims ``side`` x ``side`` pixels and which holds almost nothing."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = b"IDAT" + zlib.compress(b"\0" * 1024)
    chunks = b"".join(struct.pack(">I", len(c) - 4) + c + struct.pack(">I", zlib.crc32(c)) for c in (ihdr, idat))
    return b"\x89PNG\r\n\x1a\n" + chunks


def png_real_large(side: int = 7000) -> bytes:
    """A real, fully decodable PNG of ``side`` x ``side`` (under the pixel limit: it must be decoded)."""
    out = io.BytesIO()
    Image.new("L", (side, side), 0).save(out, "PNG")
    return out.getvalue()


def make_seeds(folder: Path) -> dict[str, bytes]:
    """The seed files' bytes, keyed by format."""
    folder.mkdir(parents=True, exist_ok=True)
    cover = _jpeg(64)
    seeds: dict[str, bytes] = {}
    for n, (fmt, suffix) in enumerate(SEED_FORMATS.items()):
        path = folder / f"seed{suffix}"
        write_audio(path, music_like(1.5, sr=44100, seed=n), sr=44100, fmt=fmt)
        if fmt in ("mp3", "wav", "aiff"):
            tags = ID3()
            tags.add(TIT2(encoding=3, text=[f"Seed {fmt}"]))
            tags.add(TPE1(encoding=3, text=["Fuzz"]))
            tags.add(TALB(encoding=3, text=["Hostile"]))
            if fmt == "mp3":
                tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=cover))
            tags.save(path)
        elif fmt == "flac":
            audio = FLAC(path)
            audio.update({"title": "Seed flac", "artist": "Fuzz", "album": "Hostile"})
            picture = Picture()
            picture.type, picture.mime, picture.data = 3, "image/jpeg", cover
            audio.add_picture(picture)
            audio.save()
        elif fmt == "m4a":
            audio = MP4(path)
            audio["\xa9nam"], audio["\xa9ART"], audio["\xa9alb"] = ["Seed m4a"], ["Fuzz"], ["Hostile"]
            audio["covr"] = [MP4Cover(cover, imageformat=MP4Cover.FORMAT_JPEG)]
            audio.save()
        else:
            audio = __import__("mutagen").File(path)
            audio["title"], audio["artist"], audio["album"] = ["Seed ogg"], ["Fuzz"], ["Hostile"]
            audio.save()
        seeds[fmt] = path.read_bytes()
    return seeds


def _size_fields(fmt: str, data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of the length and count fields a parser trusts, for ``fmt``."""
    fields: list[tuple[int, int]] = []
    if fmt in ("mp3", "wav", "aiff") and b"ID3" in data[:4096]:
        at = data.find(b"ID3")
        fields.append((at + 6, 4))  # the tag's (syncsafe) size
    if fmt == "flac":
        pos = 4
        while pos + 4 <= len(data):
            fields.append((pos + 1, 3))  # block length
            last, length = data[pos] & 0x80, int.from_bytes(data[pos + 1 : pos + 4], "big")
            pos += 4 + length
            if last:
                break
        fields += [(18, 4), (22, 4)]  # sample rate / channels / total samples
    elif fmt == "m4a":
        pos = 0
        while pos + 8 <= len(data) and len(fields) < 64:  # top-level and first-level atoms
            size = int.from_bytes(data[pos : pos + 4], "big")
            fields.append((pos, 4))
            if data[pos + 4 : pos + 8] in (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta"):
                pos += 8
            elif size >= 8:
                pos += size
            else:
                break
    elif fmt == "wav":
        fields += [(4, 4), (22, 2), (24, 4), (32, 2), (40, 4)]  # RIFF size, channels, rate, align, data
    elif fmt == "aiff":
        at = data.find(b"COMM")
        if at >= 0:
            fields += [(at + 4, 4), (at + 8, 2), (at + 10, 4), (at + 14, 2)]
        fields.append((4, 4))
    elif fmt == "ogg":
        fields += [(6, 4), (10, 4), (26, 1)]  # granule position, page segments
    return [f for f in fields if f[0] + f[1] <= len(data)]


def _nested_mp4(depth: int) -> bytes:
    """An ``ftyp`` and ``depth`` atoms, each holding the next."""
    body = b"\0" * 8
    for n in range(depth):
        kind = (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta")[n % 6]
        body = struct.pack(">I", len(body) + 8) + kind + body
    ftyp = struct.pack(">I", 20) + b"ftypM4A \0\0\0\0M4A "
    return ftyp + body


@dataclass
class Input:
    rel_path: str
    fmt: str
    mutation: str
    sparse_size: int = 0


def make_inputs(
    root: Path, seeds: dict[str, bytes], count: int, *, seed: int, sparse_sizes: tuple[int, ...] = (1 << 30,)
) -> list[Input]:
    """Write ``count`` mutated files under ``root/fuzz`` (ten to a folder); return what was made.

    A sparse input is one of ``sparse_sizes`` bytes long (FFmpeg reads an MP3's 4 GiB of zeros for
    longer than the per-file timeout: that one ends as ANALYSIS_TIMEOUT, which costs the suite 30 s)."""
    rng = random.Random(seed)
    made: list[Input] = []
    formats = list(seeds)
    for n in range(count):
        fmt = formats[n % len(formats)]
        mutation = rng.choices(MUTATIONS, _WEIGHTS)[0]
        folder = root / "fuzz" / f"{n // 10:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{n:05d}-{mutation}{SEED_FORMATS[fmt]}"
        data, sparse = _mutate(rng, fmt, mutation, seeds, sparse_sizes)
        path = folder / name
        path.write_bytes(data)
        if sparse:
            with path.open("r+b") as fh:
                fh.truncate(sparse)
        if n % 10 == 9 and rng.random() < 0.3:  # a folder image bomb now and then
            (folder / "cover.png").write_bytes(png_bomb_header() if rng.random() < 0.7 else png_real_large(7000))
        made.append(Input(path.relative_to(root).as_posix(), fmt, mutation, sparse))
    return made


def _mutate(
    rng: random.Random, fmt: str, mutation: str, seeds: dict[str, bytes], sparse_sizes: tuple[int, ...]
) -> tuple[bytes, int]:
    data = bytearray(seeds[fmt])
    if mutation == "truncate":
        return bytes(data[: rng.randrange(len(data))]), 0
    if mutation == "flip":
        for _ in range(rng.randint(1, 32)):
            at = rng.randrange(min(4096, len(data))) if rng.random() < 0.7 else rng.randrange(len(data))
            data[at] = rng.randrange(256)
        return bytes(data), 0
    if mutation == "size":
        fields = _size_fields(fmt, bytes(data)) or [(rng.randrange(0, 256, 4), 4)]
        for offset, width in rng.sample(fields, min(len(fields), rng.randint(1, 3))):
            value = rng.choice(_ABSURD) & ((1 << (8 * width)) - 1)
            data[offset : offset + width] = value.to_bytes(width, "big")
        return bytes(data), 0
    if mutation == "splice":
        other = seeds[rng.choice(list(seeds))]
        start, length = rng.randrange(len(other)), rng.randint(16, 4096)
        at = rng.randrange(len(data))
        return bytes(data[:at] + other[start : start + length] + data[at:]), 0
    if mutation == "nest":
        return _nested_mp4(rng.choice((500, 5000, 50000))), 0
    if mutation == "tagbomb":
        return _tag_bomb(rng, fmt, bytes(data)), 0
    if mutation == "artbomb":
        return _art_bomb(rng, fmt, bytes(data)), 0
    if mutation == "empty":
        return b"", 0
    # sparse: the seed's first 8 KB (a real header and the first frames), then a hole
    return bytes(data[:8192]), rng.choice(sparse_sizes)


def _tag_bomb(rng: random.Random, fmt: str, data: bytes) -> bytes:
    big = rng.randbytes(rng.choice((1, 4, 12)) << 20)
    if fmt == "flac":  # a picture block of megabytes (the format's limit is 16 MiB)
        block = b"\x06" + len(big[: (1 << 24) - 1]).to_bytes(3, "big") + big[: (1 << 24) - 1]
        return data[:42] + block + data[42:]  # after STREAMINFO
    if fmt == "m4a":
        return data + struct.pack(">I", len(big) + 8) + b"free" + big
    frame = b"TXXX" + struct.pack(">I", len(big) + 1) + b"\0\0" + b"\x03" + big  # an ID3v2.3 frame
    size = len(frame)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    tag = b"ID3\x03\x00\x00" + syncsafe + frame
    if fmt == "mp3":
        return tag + data
    return data + tag  # WAV/AIFF/Ogg: a stray tag at the end


def _art_bomb(rng: random.Random, fmt: str, data: bytes) -> bytes:
    picture = png_bomb_header() if rng.random() < 0.75 else png_real_large(rng.choice((4000, 7000)))
    if fmt == "flac":
        pic = Picture()
        pic.type, pic.mime, pic.data = 3, "image/png", picture
        block = pic.write()
        return data[:42] + b"\x06" + len(block).to_bytes(3, "big") + block + data[42:]
    apic = APIC(encoding=3, mime="image/png", type=3, desc="", data=picture)
    tags = ID3()
    tags.add(apic)
    out = io.BytesIO()
    tags.save(out)
    return out.getvalue() + data if fmt == "mp3" else data + out.getvalue()


@dataclass
class FuzzRun:
    inputs: list[Input]
    exit_code: int
    seconds: float
    peak_rss_mb: float
    summary: dict[str, Any]
    outcome: dict[str, str]  # rel_path -> analysed | failed:<code> | not audio
    stderr: str = ""
    codes: Counter[str] = field(default_factory=Counter)

    def unaccounted(self) -> list[str]:
        return [i.rel_path for i in self.inputs if i.rel_path not in self.outcome]


def _tree_rss(pid: int) -> int:
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_import(root: Path, inputs: list[Input], tmp_path: Path, *, timeout: float) -> FuzzRun:
    """``wkmp-ai import`` over ``root`` (offline), its process tree's RSS sampled every 0.1 s."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wkmp_ai", "import", str(root), "--root", str(root), "--json"],
        env=offline_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the import hung: still running after {timeout:.0f} s\n{err[-3000:]}") from None
    finally:
        done.set()
        sampler.join()
    seconds = time.monotonic() - started
    summary = json.loads(out) if out.strip() else {}
    conn = sqlite3.connect(root / "wkmp.db")
    try:
        outcome: dict[str, str] = {}
        for path, status, code in conn.execute(
            "SELECT f.path, s.status, s.error_code FROM files f LEFT JOIN wkmp_ai_import_state s ON s.file_id = f.guid"
        ):
            if status is not None:
                outcome[path] = "analysed" if status == "analysed" else f"failed:{code}"
        for (path,) in conn.execute("SELECT path FROM wkmp_ai_scan_others"):
            outcome[path] = "not audio"
    finally:
        conn.close()
    codes = Counter(e["error_code"] for e in summary.get("errors", []))
    return FuzzRun(inputs, proc.returncode, seconds, peak / 1e6, summary, outcome, err, codes)
