"""SHA-256 of a file's bytes, streamed in constant memory (``files.hash``)."""

from __future__ import annotations

import errno
import hashlib
import os
import stat

__all__ = ["BLOCK_SIZE", "sha256_file"]

BLOCK_SIZE = 1 << 20
"""Bytes read per call. 1 MiB keeps the per-call overhead negligible against hashing itself,
and hashlib releases the GIL while it hashes blocks this large."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file at ``path``. Raises OSError when it cannot be read, or when it is
    not a regular file: discovery accepted a regular file, but it may have been replaced by a FIFO
    or a device since (opened non-blocking, so a FIFO cannot hold the scan)."""
    digest = hashlib.sha256()
    buffer = bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
    with open(fd, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()
