"""Signals with exact truths shared by the audio tests, and a module-scoped folder to keep files in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.synth import concat, music_like, silence

# Three "songs" of 6 s with 2 s of digital silence between them and 1 s at each end:
# A 1–7 s, B 9–15 s, C 17–23 s, file 24 s. Passages tile the file (docs/design.md, *Passages*), split at the
# gaps' midpoints: [0, 8], [8, 16], [16, 24]; the 1 s of silence at each end is lead-in/lead-out.
THREE_SONGS_PASSAGES = [(0.0, 8.0), (8.0, 16.0), (16.0, 24.0)]


def three_songs(sr: int, channels: int = 2, *, amplitude: float = 0.5) -> np.ndarray:
    song = [music_like(6.0, sr=sr, seed=s, channels=channels, amplitude=amplitude) for s in (1, 2, 3)]
    gap = silence(2.0, sr=sr, channels=channels)
    edge = silence(1.0, sr=sr, channels=channels)
    return concat(edge, song[0], gap, song[1], gap, song[2], edge)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")
