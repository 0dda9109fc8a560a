"""Small real libraries for import tests: encoded audio with exact truths, tagged with mutagen.

Every track is ``lead`` s of digital silence, then a music-like signal, then ``tail`` s of
silence, so the true passage start and end are known to the sample. A multi-song file puts
2.000 s silences between its songs at exactly known times.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import mutagen
from mutagen.id3 import ID3, TALB, TIT2, TPE1, TRCK

from tests.synth import FORMATS, concat, music_like, silence, write_audio

__all__ = ["Track", "make_album", "tag", "undecodable_flac"]


@dataclass(frozen=True)
class Track:
    path: Path
    rel_path: str
    format: str
    sample_rate: int
    songs: tuple[tuple[float, float], ...]  # true (start_s, end_s) of each song in the file


def tag(path: Path, **values: str) -> None:
    """Write tags with mutagen's easy interface (works for FLAC, Ogg, MP3 (EasyID3), MP4)."""
    audio = mutagen.File(path, easy=True)
    if audio is None:
        raise ValueError(f"mutagen cannot tag {path}")
    if audio.tags is None:
        audio.add_tags()
    if isinstance(audio.tags, ID3):  # WAV/AIFF carry plain ID3 frames; no easy interface
        frames = {"title": TIT2, "artist": TPE1, "album": TALB, "tracknumber": TRCK}
        for key, value in values.items():
            audio.tags.add(frames[key](encoding=3, text=[value]))
    else:
        for key, value in values.items():
            audio[key] = value
    audio.save()


def make_album(
    root: Path,
    folder: str,
    n: int,
    *,
    seconds: float = 8.0,
    formats: tuple[str, ...] = ("flac",),
    lead: float = 0.5,
    tail: float = 0.5,
    seed: int = 0,
    songs_in_last: int = 1,
    tags: bool = True,
) -> list[Track]:
    out = []
    for i in range(n):
        fmt = formats[i % len(formats)]
        sr = 48000 if fmt == "opus" else 44100
        parts = [silence(lead, sr=sr)]
        songs = []
        t = lead
        count = songs_in_last if i == n - 1 else 1
        for k in range(count):
            if k:
                parts.append(silence(2.0, sr=sr))
                t += 2.0
            parts.append(music_like(seconds, sr=sr, seed=seed * 1000 + i * 10 + k))
            songs.append((t, t + seconds))
            t += seconds
        parts.append(silence(tail, sr=sr))
        rel = f"{folder}/{i + 1:02d} Track {i + 1}{FORMATS[fmt].suffix}"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_audio(path, concat(*parts), sr=sr, fmt=fmt)
        if tags:
            album = folder.rsplit("/", 1)[-1]
            tag(path, title=f"Track {i + 1}", artist="Test Artist", album=album, tracknumber=str(i + 1))
        out.append(Track(path, rel, fmt, sr, tuple(songs)))
    return out


def undecodable_flac(good: Path, target: Path, *, seed: int = 0) -> Path:
    """A file that passes discovery (a real FLAC header and metadata) but holds no decodable audio:
    every audio frame replaced by noise bytes."""
    data = good.read_bytes()
    pos = 4
    while True:  # metadata blocks: 1 byte flags/type, 3 bytes length; the high bit marks the last
        flags, length = data[pos], int.from_bytes(data[pos + 1 : pos + 4], "big")
        pos += 4 + length
        if flags & 0x80:
            break
    noise = random.Random(seed).randbytes(len(data) - pos)
    target.write_bytes(data[:pos] + noise)
    return target
