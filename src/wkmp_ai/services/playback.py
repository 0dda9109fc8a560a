"""The audio a browser plays in the segment editor: the file itself when Chromium can decode it,
else a FLAC transcode made once with PyAV and kept in a small cache (docs/editor.md).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from wkmp_ai.config import resolve_inside_root
from wkmp_ai.db import editor as q
from wkmp_ai.db.connection import Database
from wkmp_ai.errors import IngestError, plain_message
from wkmp_ai.services.editor import EditorProblem

__all__ = ["CACHE_FILES", "playable"]

# Codecs Chromium's own media stack plays (HTML audio), and the type each container is served as.
_PLAYABLE = {"mp3", "flac", "vorbis", "opus", "aac", "pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"}
_MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "wav": "audio/wav",
}
CACHE_FILES = 8  # transcodes kept; the oldest goes first
_lock = threading.Lock()


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wkmp-ai" / "audio"


def playable(db: Database, root: Path, file_id: str) -> tuple[Path, str]:
    """(path to serve, its media type); transcodes first when the browser could not play the file."""
    with db.read() as conn:
        row = q.file_row(conn, file_id)
    if row is None:
        raise EditorProblem(404, "not_found", f"no file {file_id}")
    try:
        path = resolve_inside_root(root, row["path"])
    except ValueError as exc:
        raise EditorProblem(403, "path_outside_root", str(exc)) from exc
    if not path.is_file():
        raise EditorProblem(404, "not_found", f"{row['path']} is no longer on disk")
    fmt = row["format"] or ""
    codec = _codec(path)
    if fmt in _MEDIA_TYPES and codec in _PLAYABLE:
        return path, _MEDIA_TYPES[fmt]
    return _transcoded(path, row["hash"]), "audio/flac"


def _codec(path: Path) -> str | None:
    import av

    try:
        with av.open(str(path)) as container:
            return container.streams.audio[0].codec_context.name if container.streams.audio else None
    except (av.error.FFmpegError, OSError):
        return None


def _transcoded(path: Path, content_hash: str) -> Path:
    folder = cache_dir()
    target = folder / f"{content_hash}.flac"
    with _lock:
        if target.is_file():
            os.utime(target)
            return target
        folder.mkdir(parents=True, exist_ok=True)
        part = target.with_suffix(".part")
        try:
            _to_flac(path, part)
            part.replace(target)
        except (IngestError, OSError) as exc:
            part.unlink(missing_ok=True)
            detail = exc.detail if isinstance(exc, IngestError) else plain_message(exc)
            raise EditorProblem(
                422, "cannot_play", f"the browser cannot play this file and it could not be converted: {detail}"
            ) from exc
        _trim(folder)
        return target


def _to_flac(source: Path, dest: Path) -> None:
    import av

    from wkmp_ai.audio.decode import open_audio

    with open_audio(source) as audio, av.open(str(dest), "w", format="flac") as out:
        info = audio.info
        stream = out.add_stream("flac", rate=info.sample_rate)
        stream.layout = "stereo" if info.channels >= 2 else "mono"
        stream.format = "s16"
        channels = 2 if info.channels >= 2 else 1
        for block in audio.blocks():
            pcm = block.pcm[:channels]
            data = (pcm.clip(-1.0, 1.0) * 32767).round().astype("<i2").T.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(data, format="s16", layout=stream.layout.name)
            frame.sample_rate = info.sample_rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _trim(folder: Path) -> None:
    files = sorted(folder.glob("*.flac"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[CACHE_FILES:]:
        with contextlib.suppress(OSError):
            old.unlink()
