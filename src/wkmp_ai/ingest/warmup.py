"""Imported once by the worker pool's forkserver: every worker then starts with NumPy, PyAV,
Essentia and libchromaprint already loaded, instead of paying ~2 s on its first file."""

from wkmp_ai.audio import analyze as _analyze  # noqa: F401  (the module workers run)
from wkmp_ai.audio.chromaprint import _load as _load_chromaprint
from wkmp_ai.audio.flavor import _essentia

_essentia()
_load_chromaprint()
