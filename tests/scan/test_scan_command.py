"""``wkmp-ai scan DIR --json`` end to end, in a subprocess, including folders it may not read.

Root ignores permission bits, so the unreadable cases run the CLI without the capabilities that
let root read anything (``setpriv --bounding-set=-dac_override,-dac_read_search``): the process
stays uid 0 but meets permission bits like anyone else.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.scan_tree import build_tree


def run_scan(root: Path, directory: Path, *, unprivileged: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "wkmp_ai", "scan", str(directory), "--root", str(root), "--json"]
    if unprivileged and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: root would read the 'unreadable' files")
        cmd = [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    env = {**os.environ, "XDG_CONFIG_HOME": str(root.parent / "xdg")}
    env.pop("WKMP_ROOT", None)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


def listed(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(line) == {"path", "format", "size"} for line in lines)
    return {str(line["path"]): line for line in lines}


def db_paths(root: Path) -> set[str]:
    with sqlite3.connect(root / "wkmp.db") as conn:
        return {row[0] for row in conn.execute("SELECT path FROM files")}


def test_scan_json_lists_exactly_the_audio_files(root: Path, templates: dict[str, bytes]) -> None:
    tree = build_tree(root / "library", 400, templates, seed=7)
    (root / "library" / "Artist 0000" / "Album 00" / "loop").symlink_to("..")
    result = run_scan(root, root / "library")
    assert result.returncode == 0, result.stderr
    found = listed(result)
    expected = {f"library/{path}": fmt for path, fmt in tree.audio.items()}
    assert {path: line["format"] for path, line in found.items()} == expected
    some = next(iter(expected))
    assert found[some]["size"] == (root / some).stat().st_size
    assert "SYMLINK_LOOP" in result.stderr
    assert db_paths(root) == set(expected)


def test_scan_outside_the_root_is_refused(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_scan(root, elsewhere)
    assert result.returncode != 0
    assert "outside the root folder" in result.stderr


def test_unreadable_folder_and_file_are_reported_and_their_rows_kept(root: Path, templates: dict[str, bytes]) -> None:
    lib = root / "lib"
    for name in ("open/a.flac", "open/b.mp3", "locked/c.ogg", "locked/d.opus"):
        (lib / name).parent.mkdir(parents=True, exist_ok=True)
        (lib / name).write_bytes(templates[name.rsplit(".", 1)[1]])
    first = run_scan(root, lib)
    assert first.returncode == 0, first.stderr
    assert len(listed(first)) == 4

    (lib / "locked").chmod(0)
    (lib / "open" / "b.mp3").chmod(0)
    (lib / "open" / "b.mp3").write_bytes(templates["mp3"] + b"changed")  # root writes; mtime moves on
    try:
        second = run_scan(root, lib, unprivileged=True)
    finally:
        (lib / "locked").chmod(0o755)
        (lib / "open" / "b.mp3").chmod(0o644)
    assert second.returncode == 0, second.stderr
    assert set(listed(second)) == {"lib/open/a.flac"}
    assert "DIRECTORY_UNREADABLE: lib/locked/" in second.stderr
    assert "FILE_UNREADABLE: lib/open/b.mp3" in second.stderr
    assert "0 removed" in second.stderr
    assert db_paths(root) == {"lib/open/a.flac", "lib/open/b.mp3", "lib/locked/c.ogg", "lib/locked/d.opus"}


def test_unreadable_folder_on_first_scan(root: Path, templates: dict[str, bytes]) -> None:
    (root / "ok").mkdir()
    (root / "ok" / "a.wav").write_bytes(templates["wav"])
    (root / "shut").mkdir()
    (root / "shut" / "b.wav").write_bytes(templates["wav"])
    (root / "shut").chmod(0)
    try:
        result = run_scan(root, root, unprivileged=True)
    finally:
        (root / "shut").chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert set(listed(result)) == {"ok/a.wav"}
    assert "DIRECTORY_UNREADABLE: shut/" in result.stderr
