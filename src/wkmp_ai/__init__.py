"""wkmp-ai: the Audio Ingest service of WKMP.

It discovers audio files under a root folder, analyses them (fingerprint, passage boundaries,
lead-in/lead-out, musical flavor), identifies them through AcoustID and MusicBrainz, and writes
the shared SQLite database ``wkmp.db`` that the other WKMP modules read.
"""

__version__ = "0.1.0"
MODULE_NAME = "audio_ingest"

__all__ = ["MODULE_NAME", "__version__"]
