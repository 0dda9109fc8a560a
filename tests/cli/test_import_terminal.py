"""``wkmp-ai import`` on a terminal (issue 14): warnings scroll above a bar that stays whole, the bar
names the phase, and the run ends with the files that need attention, each with its reason."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import offline_env
from tests.ingest.library import make_album

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def library(tmp_path: Path) -> Path:
    root = tmp_path / "music"
    make_album(root, "Artist/Album", 2, seconds=4.0)
    (root / "Artist/Album/broken.flac").write_bytes(b"fLaC" + b"\0" * 300)
    return root


def test_json_summary_lists_what_needs_attention(tmp_path: Path) -> None:
    root = library(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "wkmp_ai", "import", str(root / "Artist"), "--root", str(root), "--json"],
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    attention = json.loads(proc.stdout)["attention"]
    assert sorted(f["path"] for f in attention["pending"]["files"]) == [
        "Artist/Album/01 Track 1.flac",
        "Artist/Album/02 Track 2.flac",
    ]  # offline: analysed, not identified yet
    (skipped,) = attention["skipped"]["files"]
    assert skipped["path"] == "Artist/Album/broken.flac" and skipped["code"] == "NOT_AUDIO" and skipped["reason"]
    assert skipped["label"] == "Not audio"


def test_terminal_bar_stays_whole_and_the_summary_ends_with_files_needing_attention(tmp_path: Path) -> None:
    root = library(tmp_path)
    leader, follower = pty.openpty()
    os.set_blocking(leader, False)
    env = offline_env(tmp_path) | {"COLUMNS": "160", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wkmp_ai", "import", str(root / "Artist"), "--root", str(root)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 180
    while True:
        assert time.monotonic() < deadline, b"".join(chunks)[-2000:]
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: every process holding the terminal has closed it
                data = b""
            if data:
                chunks.append(data)
                continue
        if proc.poll() is not None:
            break
    os.close(leader)
    assert proc.returncode == 0
    text = b"".join(chunks).decode("utf-8", "replace")
    plain = ANSI.sub("", text)
    assert re.search(r"(Finding files|Analysing|Identifying) .*━", plain), "the bar names the phase"
    warnings = [m.start() for m in re.finditer("WARNING", plain)]
    assert warnings, "the offline import logs warnings"
    for at in warnings:  # each warning starts a line of its own: the bar was cleared, not broken
        line_start = max(plain.rfind("\r", 0, at), plain.rfind("\n", 0, at)) + 1
        assert "━" not in plain[line_start:at], plain[line_start : at + 80]
    tail = plain[plain.index("Import COMPLETED") :]
    assert "Files that need attention" in tail
    assert re.search(r"not identified yet \(2\)", tail)
    assert re.search(r"Artist/Album/broken\.flac — Not audio: .*", tail)  # plain words, not the code
    assert re.search(r"No AcoustID key \(ACOUSTID_NO_API_KEY\)\s*│\s*1\b", tail), tail  # the counts: label and code
