"""Ogg Vorbis files that repeat their Vorbis headers inside the audio (docs/audio.md, *Repeated Vorbis
headers*): FFmpeg will not open them whole, libvorbis decodes them, and so must we.

The synthetic file is made here by hand, page by page, from a file PyAV encoded: its three header
packets are written again into its first audio page, whose granule position becomes -104 — the
shape of the real files (``hyperrogue-music``'s ``hr-savino-*.ogg``). The Ogg writing below is
this test's own (a bitwise CRC, not the table the repair uses).
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.realmusic import CorpusUnavailable, corpus
from wkmp_ai.audio.analyze import analyze_file
from wkmp_ai.audio.decode import open_audio
from wkmp_ai.audio.oggrepair import HEAD_BYTES, repeats_headers, without_repeated_headers

RATE = 44100


def _crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _split(data: bytes) -> list[dict]:
    pages, pos = [], 0
    while pos < len(data):
        assert data[pos : pos + 4] == b"OggS"
        count = data[pos + 26]
        lacing = list(data[pos + 27 : pos + 27 + count])
        body = data[pos + 27 + count : pos + 27 + count + sum(lacing)]
        granule, serial, sequence = struct.unpack_from("<qII", data, pos + 6)
        pages.append({"flags": data[pos + 5], "granule": granule, "serial": serial, "seq": sequence,
                      "lacing": lacing, "body": body})  # fmt: skip
        pos += 27 + count + sum(lacing)
    return pages


def _packets(page: dict) -> list[bytes]:
    out, offset, run = [], 0, 0
    for value in page["lacing"]:
        run += value
        if value < 255:
            out.append(page["body"][offset : offset + run])
            offset, run = offset + run, 0
    assert run == 0, "a packet continued onto the next page: not what this test builds on"
    return out


def _lacing(packet: bytes) -> list[int]:
    return [255] * (len(packet) // 255) + [len(packet) % 255]


def _join(pages: list[dict]) -> bytes:
    out = bytearray()
    for p in pages:
        fields = (p["flags"], p["granule"], p["serial"], p["seq"], 0, len(p["lacing"]))
        head = struct.pack("<4sBBqIIIB", b"OggS", 0, *fields)
        page = bytearray(head + bytes(p["lacing"]) + p["body"])
        struct.pack_into("<I", page, 22, _crc(bytes(page)))
        out += page
    return bytes(out)


def _vorbis(path: Path, seconds: float = 3.0) -> None:
    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * RATE)) / RATE
    music = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    with av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("vorbis", rate=RATE, options={"strict": "experimental"})  # FFmpeg's own encoder
        stream.layout = "stereo"
        stream.format = "fltp"
        stream.time_base = Fraction(1, RATE)
        size = stream.codec_context.frame_size or 4096
        for start in range(0, t.size, size):
            chunk = np.repeat(music[None, start : start + size], 2, axis=0)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = RATE, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _with_headers_repeated(original: bytes) -> bytes:
    """The file with its three header packets written again at the start of its first audio page."""
    pages = _split(original)
    headers = _packets(pages[0]) + _packets(pages[1])
    assert [h[:7] for h in headers] == [b"\x01vorbis", b"\x03vorbis", b"\x05vorbis"]
    first_audio = pages[2]
    lacing = [v for h in headers for v in _lacing(h)] + first_audio["lacing"]
    assert len(lacing) <= 255
    pages[2] = {**first_audio, "granule": -104, "lacing": lacing, "body": b"".join(headers) + first_audio["body"]}
    return _join(pages)


def _pcm(path: Path | str, *, native: bool = True) -> np.ndarray:
    with open_audio(path, native=native) as decoder:
        return np.concatenate([block.pcm for block in decoder.blocks()], axis=1)


def test_a_file_that_repeats_its_headers_decodes_to_the_samples_of_the_file_without_them(tmp_path: Path) -> None:
    clean = tmp_path / "clean.ogg"
    _vorbis(clean)
    spliced = tmp_path / "spliced.ogg"
    spliced.write_bytes(_with_headers_repeated(clean.read_bytes()))
    with pytest.raises(av.InvalidDataError):  # the fault is real: FFmpeg refuses the file
        av.open(str(spliced)).close()

    assert repeats_headers(spliced.read_bytes()[:HEAD_BYTES])
    assert not repeats_headers(clean.read_bytes()[:HEAD_BYTES])
    assert without_repeated_headers(clean.read_bytes()) is None  # nothing to change: nothing changed

    expected = _pcm(clean, native=False)  # the repaired file decodes with PyAV's loop: compare like with like
    got = _pcm(spliced)
    assert got.shape == expected.shape and np.array_equal(got, expected)  # bit for bit

    result = analyze_file(spliced, {}, flavor=False)
    assert not [w for w in result.warnings if w.code in ("DECODE_ERROR", "PARTIAL_DECODE")]
    assert abs(result.duration_s - 3.0) < 0.01 and len(result.passages) == 1


def test_a_header_packet_that_continues_onto_the_next_page_is_dropped_whole(tmp_path: Path) -> None:
    """The repeated setup header split over two pages: the second page's piece goes too, and the
    audio that follows it on that page is no longer marked as continuing a packet."""
    clean = tmp_path / "clean.ogg"
    _vorbis(clean)
    pages = _split(clean.read_bytes())
    ident, comment = _packets(pages[0])[0], _packets(pages[1])[0]
    setup = _packets(pages[1])[1]
    cut = 1020  # 4 × 255: the first piece ends on a 255, so the packet goes on on the next page
    audio = pages[2]
    first = {**audio, "granule": -1, "lacing": _lacing(ident) + _lacing(comment) + [255] * 4,
             "body": ident + comment + setup[:cut]}  # fmt: skip
    second = {**audio, "flags": audio["flags"] | 1, "seq": audio["seq"] + 1,
              "lacing": _lacing(setup[cut:]) + audio["lacing"], "body": setup[cut:] + audio["body"]}  # fmt: skip
    later = [{**p, "seq": p["seq"] + 1} for p in pages[3:]]
    spliced = tmp_path / "spliced.ogg"
    spliced.write_bytes(_join([*pages[:2], first, second, *later]))

    repaired = without_repeated_headers(spliced.read_bytes())
    assert repaired is not None
    fixed = _split(repaired)
    assert len(fixed) == len(pages)  # the page of header pieces only is gone
    assert fixed[2]["flags"] & 1 == 0 and _packets(fixed[2]) == _packets(audio)
    assert np.array_equal(_pcm(spliced), _pcm(clean, native=False))


def test_other_ogg_files_are_left_alone(tmp_path: Path) -> None:
    """Opus and FLAC in Ogg have headers of their own, never counted as repeated Vorbis headers."""
    for codec, suffix in (("libopus", ".opus"), ("flac", ".oga")):
        path = tmp_path / f"x{suffix}"
        with av.open(str(path), "w", format="ogg") as out:
            stream = out.add_stream(codec, rate=48000)
            stream.layout = "stereo"
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 2 * 48000), np.int16), format="s16", layout="stereo")
            frame.sample_rate, frame.pts = 48000, 0
            for resampled in av.AudioResampler(format=stream.format.name, layout="stereo", rate=48000).resample(frame):
                for packet in stream.encode(resampled):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        data = path.read_bytes()
        assert not repeats_headers(data[:HEAD_BYTES]) and without_repeated_headers(data) is None


def test_real_files_that_repeat_their_headers_decode_as_libvorbis_decodes_them() -> None:
    """hyperrogue-music's ``hr-savino-caribbean.ogg``: FFmpeg and fpcalc refuse it; libvorbis's
    ``oggdec`` decodes it; we decode the same samples (within oggdec's 16-bit rounding)."""
    try:
        root = corpus(("hyperrogue-music",))
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))
    oggdec = shutil.which("oggdec")
    if oggdec is None:
        pytest.skip("oggdec (Debian vorbis-tools) is not installed: scripts/install.sh --test installs it")
    music = root / "hyperrogue-music" / "usr" / "share" / "hyperrogue" / "music"
    track = music / "hr-savino-caribbean.ogg"
    with pytest.raises(av.InvalidDataError):
        av.open(str(track)).close()

    reference = subprocess.run([oggdec, "-Q", "-o", "-", str(track)], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(reference)) as wav:
        expected = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, wav.getnchannels()).T / 32768.0
    got = _pcm(track)
    assert got.shape == expected.shape  # 2,747,769 frames: not one more or less than libvorbis
    assert np.max(np.abs(got - expected)) <= 1 / 32768

    for name in ("hr-savino-caribbean.ogg", "hr-savino-ivory.ogg", "hr-savino-ocean.ogg", "hr-savino-palace.ogg"):
        result = analyze_file(music / name, {}, flavor=False)
        assert not [w for w in result.warnings if w.code in ("DECODE_ERROR", "PARTIAL_DECODE")], name
        assert result.duration_s > 60 and result.passages[0].fingerprint
