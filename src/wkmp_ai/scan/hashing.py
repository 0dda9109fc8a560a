"""SHA-256 of a file's bytes, streamed in constant memory (``files.hash``)."""

from __future__ import annotations

import hashlib
import os

__all__ = ["BLOCK_SIZE", "sha256_file"]

BLOCK_SIZE = 1 << 20
"""Bytes read per call. 1 MiB keeps the per-call overhead negligible against hashing itself,
and hashlib releases the GIL while it hashes blocks this large."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file at ``path``. Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    buffer = bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()
