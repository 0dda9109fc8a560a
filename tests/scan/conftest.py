"""Fixtures of the scan tests: tiny real audio files in every format, made once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from benchmarks.scan_tree import make_templates

from tests.synth import tone, write_audio


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Bytes of a tiny tagged file per format (keys: mp3, flac, ogg, opus, m4a, wav, aiff, wma)."""
    return make_templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One untagged 0.2 s file per format tests/synth.py can encode (keys of synth.FORMATS)."""
    folder = tmp_path_factory.mktemp("encoded")
    out: dict[str, Path] = {}
    for fmt, sr, channels in [
        ("wav", 44100, 2),
        ("wav24", 48000, 2),
        ("wav8", 8000, 1),
        ("flac", 44100, 2),
        ("flac24", 96000, 2),
        ("mp3", 44100, 2),
        ("ogg", 44100, 2),
        ("opus", 48000, 2),
        ("m4a", 44100, 2),
        ("alac", 44100, 2),
        ("aiff", 44100, 2),
        ("wma", 44100, 2),
    ]:
        suffix = {"wav24": ".wav", "wav8": ".wav", "flac24": ".flac", "alac": ".m4a"}.get(fmt, f".{fmt}")
        out[fmt] = write_audio(folder / f"{fmt}{suffix}", tone(0.2, sr=sr, channels=channels), sr=sr, fmt=fmt)
    return out


@pytest.fixture
def copy_of(tmp_path: Path, encoded: dict[str, Path]):  # type: ignore[no-untyped-def]
    """Return a function that copies an encoded file to ``tmp_path/name`` (tag tests work on copies)."""

    def make(fmt: str, name: str | None = None) -> Path:
        target = tmp_path / (name or encoded[fmt].name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(encoded[fmt], target)
        return target

    return make
