"""Ogg Vorbis files that repeat their headers inside the audio, repaired in memory for FFmpeg
(docs/audio.md, *Repeated Vorbis headers*).

Some tools that join or retag Ogg Vorbis files write a second set of Vorbis headers (identification,
comment, setup) into the audio of the same logical stream, and give the page that carries them a
negative granule position. libvorbis skips header packets where it expects audio, so ``oggdec`` and
players built on it decode such a file whole; FFmpeg, and ``fpcalc`` with it, refuses to open it
("Header processing failed") or marks the audio after the repeated headers damaged.

:func:`repeats_headers` looks at the first pages (the repeats seen in real files sit in the first
few kilobytes); :func:`without_repeated_headers` rewrites the stream without the repeated header
packets and with every negative granule position but -1 ("no packet ends on this page") set to -1,
re-checksumming the pages it changes; a page left empty is dropped (FFmpeg does not read the page
sequence numbers). FFmpeg then decodes exactly what libvorbis decodes (the same samples on a real
recording: docs/audio.md).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["HEAD_BYTES", "MAX_BYTES", "repeats_headers", "without_repeated_headers"]

HEAD_BYTES = 1 << 16  # how much of a file :func:`repeats_headers` reads
MAX_BYTES = 256 << 20  # larger files are not repaired in memory (an Ogg Vorbis album is ~100 MB)

_CAPTURE = b"OggS"
_CONTINUED = 0x01  # header_type flag: the page's first packet began on the page before
_NO_GRANULE = -1
_HEADERS = 3  # a Vorbis stream opens with three header packets


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        value = byte << 24
        for _ in range(8):
            value = ((value << 1) ^ 0x04C11DB7) if value & 0x80000000 else value << 1
        table.append(value & 0xFFFFFFFF)
    return tuple(table)


_CRC = _crc_table()


def _ogg_crc(data: bytes) -> int:
    """Ogg's page checksum: CRC-32, polynomial 0x04C11DB7, no reflection, initial value 0."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[(crc >> 24) ^ byte]
    return crc


@dataclass
class _Page:
    flags: int
    granule: int
    serial: int
    sequence: int
    lacing: bytes
    body: bytes
    raw: bytes


def _pages(data: bytes) -> Iterator[_Page]:
    """The whole pages of ``data`` from its start; stops at the first thing that is not one."""
    pos = 0
    while data.startswith(_CAPTURE, pos) and pos + 27 <= len(data):
        count = data[pos + 26]
        lacing = data[pos + 27 : pos + 27 + count]
        start = pos + 27 + count
        end = start + sum(lacing)
        if len(lacing) < count or end > len(data):
            return
        granule, serial, sequence = struct.unpack_from("<qII", data, pos + 6)
        yield _Page(data[pos + 5], granule, serial, sequence, lacing, data[start:end], data[pos:end])
        pos = end


def _packets(page: _Page) -> Iterator[tuple[bytes, bytes, bool]]:
    """(lacing, bytes, begins here) of each piece of a packet on the page."""
    offset = 0
    run = bytearray()
    first = True
    for value in page.lacing:
        run.append(value)
        if value < 255:
            yield bytes(run), page.body[offset : offset + sum(run)], not (first and page.flags & _CONTINUED)
            offset += sum(run)
            run.clear()
            first = False
    if run:
        yield bytes(run), page.body[offset : offset + sum(run)], not (first and page.flags & _CONTINUED)


def _is_vorbis_header(packet: bytes) -> bool:
    return len(packet) >= 7 and packet[0] in (1, 3, 5) and packet[1:7] == b"vorbis"


class _Streams:
    """Per logical stream: how many header packets opened it, and whether the packet in progress is dropped."""

    def __init__(self) -> None:
        self.headers: dict[int, int] = {}
        self.dropping: dict[int, bool] = {}

    def drop(self, serial: int, piece: bytes, begins: bool) -> bool:
        if begins:
            seen = self.headers.get(serial, 0)
            header = _is_vorbis_header(piece)
            if seen < _HEADERS:
                self.headers[serial] = seen + 1 if header else _HEADERS
                self.dropping[serial] = False
            else:
                self.dropping[serial] = header
        return self.dropping.get(serial, False)


def repeats_headers(head: bytes) -> bool:
    """Whether the whole pages in ``head`` (a file's first bytes) hold Vorbis headers after the first
    three of their stream, or a granule position below -1."""
    streams = _Streams()
    for page in _pages(head):
        if page.granule < _NO_GRANULE:
            return True
        if any(streams.drop(page.serial, piece, begins) for _lacing, piece, begins in _packets(page)):
            return True
    return False


def without_repeated_headers(data: bytes) -> bytes | None:
    """``data`` without repeated Vorbis header packets and with no granule position below -1;
    None when there was nothing to change. Bytes after the last whole page are dropped."""
    streams = _Streams()
    out = bytearray()
    changed = False
    for page in _pages(data):
        lacing, body = bytearray(), bytearray()
        continued = None  # whether the first kept piece continues a kept packet
        for piece_lacing, piece, begins in _packets(page):
            if streams.drop(page.serial, piece, begins):
                changed = True
                continue
            if continued is None:
                continued = not begins
            lacing += piece_lacing
            body += piece
        granule = _NO_GRANULE if page.granule < _NO_GRANULE else page.granule
        if not lacing and page.lacing:  # every packet on it was a repeated header
            continue
        if len(lacing) == len(page.lacing) and granule == page.granule:
            out += page.raw
            continue
        changed = True
        flags = (page.flags & ~_CONTINUED) | (_CONTINUED if continued else 0)
        header = struct.pack("<4sBBqIII", _CAPTURE, 0, flags, granule, page.serial, page.sequence, 0)
        rebuilt = bytearray(header + bytes([len(lacing)]) + lacing + body)
        struct.pack_into("<I", rebuilt, 22, _ogg_crc(bytes(rebuilt)))
        out += rebuilt
    return bytes(out) if changed else None
