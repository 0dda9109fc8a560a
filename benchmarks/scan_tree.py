"""Building large library-like trees for the scan benchmark and tests.

Audio files are copies of tiny real, tagged files (encoded once with PyAV, tagged with mutagen),
each given a unique tail so that no two share a hash. Decoys sit beside them: text named
``.mp3``, empty files, headers cut short, images, cue sheets. Some audio files carry a wrong or
no extension. The builder returns the truth: which root-relative paths are audio, in what format.
"""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mutagen import File as MutagenFile
from mutagen.asf import ASFTags
from mutagen.id3 import ID3, TALB, TIT2, TPE1
from mutagen.mp4 import MP4Tags
from tests.synth import tone, write_audio

__all__ = ["DECOYS", "TEMPLATE_FORMATS", "Tree", "build_tree", "make_templates"]

# (synth format key, file suffix, sample rate, format name discovery reports)
TEMPLATE_FORMATS = (
    ("mp3", ".mp3", 22050, "mp3"),
    ("flac", ".flac", 8000, "flac"),
    ("ogg", ".ogg", 8000, "ogg"),
    ("opus", ".opus", 48000, "opus"),
    ("m4a", ".m4a", 8000, "m4a"),
    ("wav", ".wav", 8000, "wav"),
    ("aiff", ".aiff", 8000, "aiff"),
    ("wma", ".wma", 8000, "wma"),
)

DECOYS: dict[str, bytes] = {
    "notes.mp3": b"This is not an MP3 file, just some text someone saved with the wrong name.\n" * 4,
    "empty.flac": b"",
    "cut.flac": b"fLaC\x00\x00\x00\x22\x10\x00",
    "cut_id3.mp3": b"ID3\x04\x00\x00\x00\x00\x10\x00" + b"\x00" * 40,
    "cut.ogg": b"OggS\x00\x02" + b"\x00" * 10,
    "cut.wav": b"RIFF\x24\x00\x00\x00WAVE",
    "cut_frame.mp3": b"\xff\xfb\x90\x64" + b"\x00" * 20,
    "cover.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64,
    "scan.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
    "album.cue": b'FILE "01.flac" WAVE\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n',
    "rip.log": b"Exact Audio Copy V1.6\n" * 8,
    "movie.heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
}


def make_templates(workdir: Path, *, seconds: float = 0.1) -> dict[str, bytes]:
    """Encode and tag one tiny file per format; return their bytes keyed by the synth format key."""
    templates: dict[str, bytes] = {}
    for key, suffix, sr, _ in TEMPLATE_FORMATS:
        path = workdir / f"template_{key}{suffix}"
        channels = 2 if key == "ogg" else 1  # FFmpeg's own Vorbis encoder takes stereo only
        write_audio(path, tone(seconds, sr=sr, channels=channels), sr=sr, fmt=key)
        _tag(path, title=f"Template {key}", artist="Template Artist", album="Template Album")
        templates[key] = path.read_bytes()
    return templates


def _tag(path: Path, *, title: str, artist: str, album: str) -> None:
    tagged = MutagenFile(path)
    if tagged.tags is None:
        tagged.add_tags()
    tags = tagged.tags
    if isinstance(tags, ID3):
        tags.add(TIT2(encoding=3, text=title))
        tags.add(TPE1(encoding=3, text=artist))
        tags.add(TALB(encoding=3, text=album))
    elif isinstance(tags, ASFTags):
        tags["Title"], tags["Author"], tags["WM/AlbumTitle"] = title, artist, album
    elif isinstance(tags, MP4Tags):
        tags["\xa9nam"], tags["\xa9ART"], tags["\xa9alb"] = [title], [artist], [album]
    else:  # Vorbis comments
        tags["title"], tags["artist"], tags["album"] = [title], [artist], [album]
    tagged.save()


@dataclass(frozen=True)
class Tree:
    root: Path
    audio: dict[str, str]  # root-relative path -> format
    files: int  # every file written, audio and decoys


def build_tree(
    dest: Path,
    n_files: int,
    templates: dict[str, bytes],
    *,
    audio_share: float = 0.75,
    per_folder: int = 14,
    seed: int = 0,
) -> Tree:
    """Write ``n_files`` files under ``dest`` in ``Artist/Album/`` folders, ``per_folder`` to a folder."""
    rng = random.Random(seed)
    keys = [k for k, *_ in TEMPLATE_FORMATS if k in templates]
    suffix_of = {k: s for k, s, _, _ in TEMPLATE_FORMATS}
    name_of = {k: n for k, _, _, n in TEMPLATE_FORMATS}
    decoy_names = list(DECOYS)
    audio: dict[str, str] = {}
    written = 0
    folder_index = 0
    while written < n_files:
        rel_folder = f"Artist {folder_index // 4:04d}/Album {folder_index % 4:02d}"
        folder = dest / rel_folder
        folder.mkdir(parents=True, exist_ok=True)
        folder_index += 1
        for track in range(1, min(per_folder, n_files - written) + 1):
            written += 1
            if rng.random() < audio_share:
                key = keys[written % len(keys)]
                suffix = suffix_of[key]
                roll = rng.random()
                if roll < 0.01:
                    suffix = ""  # no extension
                elif roll < 0.02:
                    suffix = ".dat"  # wrong extension
                name = f"{track:02d} Track {written}{suffix}"
                data = templates[key] + written.to_bytes(8, "little")
                audio[f"{rel_folder}/{name}"] = name_of[key]
            else:
                decoy = decoy_names[written % len(decoy_names)]
                name = f"{track:02d} {decoy}"
                data = DECOYS[decoy]
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
    return Tree(root=dest, audio=audio, files=written)


def main() -> None:  # pragma: no cover - manual use: python -m benchmarks.scan_tree N DEST
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    dest = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="wkmp-tree-"))
    with tempfile.TemporaryDirectory() as work:
        tree = build_tree(dest, n, make_templates(Path(work)))
    print(f"{tree.files} files ({len(tree.audio)} audio) under {tree.root}")


if __name__ == "__main__":
    main()
