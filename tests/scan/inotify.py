"""Counting file opens with Linux inotify (ctypes): a filesystem-level witness that a rescan reads
nothing. Every open(2) of a file in a watched folder raises IN_OPEN, whoever opens it and however
(Python, mutagen, SQLite); stat(2) raises nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from pathlib import Path

__all__ = ["OpenWatch"]

IN_ACCESS = 0x00000001
IN_OPEN = 0x00000020
IN_Q_OVERFLOW = 0x00004000
IN_ISDIR = 0x40000000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len


class OpenWatch:
    """Watch ``folders`` (not recursively: pass every folder) for opens and reads of their files."""

    def __init__(self, folders: list[Path]):
        self._libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.folders: dict[int, Path] = {}
        for folder in folders:
            wd = self._libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_OPEN | IN_ACCESS)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch failed for {folder}")
            self.folders[wd] = folder
        self.overflowed = False

    def file_events(self) -> list[tuple[Path, int]]:
        """(path, mask) of every open/read of a regular file since the last call."""
        events: list[tuple[Path, int]] = []
        while True:
            try:
                data = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return events
            offset = 0
            while offset < len(data):
                wd, mask, _, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
                offset += _EVENT.size + length
                if mask & IN_Q_OVERFLOW:
                    self.overflowed = True
                elif name and not mask & IN_ISDIR:
                    events.append((self.folders[wd] / os.fsdecode(name), mask))

    def close(self) -> None:
        os.close(self.fd)
