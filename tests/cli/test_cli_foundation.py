"""The command line as a user runs it: help for every verb, params get/set, roots and refusals."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, env: dict[str, str] | None = None, tmp: Path) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "xdg"), "HOME": str(tmp / "home")}
    base.pop("WKMP_ROOT", None)
    return subprocess.run(
        [sys.executable, "-m", "wkmp_ai", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
    )


@pytest.mark.parametrize("verb", ["serve", "import", "scan", "analyze", "params"])
def test_every_verb_has_help(verb: str, tmp_path: Path) -> None:
    out = run(verb, "--help", tmp=tmp_path)
    assert out.returncode == 0
    assert f"usage: wkmp-ai {verb}" in out.stdout


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = shutil.which("wkmp-ai", path=str(Path(sys.executable).parent))
    assert script, "the wkmp-ai console script is not installed next to this interpreter"
    out = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("wkmp-ai ")


def test_params_get_writes_defaults_in_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    out = run("params", "get", "--root", str(root), tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rms_window_ms"] == 100
    assert (root / "wkmp.db").is_file()


def test_params_set_and_refusal(tmp_path: Path) -> None:
    root = tmp_path / "root"
    out = run(
        "params",
        "set",
        "rms_window_ms=250",
        "apply_a_weighting=false",
        "source_media=cd",
        "--root",
        str(root),
        tmp=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    values = json.loads(out.stdout)
    assert values["rms_window_ms"] == 250 and values["apply_a_weighting"] is False
    assert values["silence_threshold_db"] == -80.0
    bad = run("params", "set", "rms_window_ms=5", "lead_in_threshold_db=-3", "--root", str(root), tmp=tmp_path)
    assert bad.returncode == 2
    assert "rms_window_ms must be between 10 and 1000" in bad.stderr
    again = json.loads(run("params", "--root", str(root), tmp=tmp_path).stdout)
    assert again["rms_window_ms"] == 250 and again["lead_in_threshold_db"] == -12.0  # nothing saved


def test_root_from_environment(tmp_path: Path) -> None:
    root = tmp_path / "env-root"
    out = run("params", env={"WKMP_ROOT": str(root)}, tmp=tmp_path)
    assert out.returncode == 0
    assert (root / "wkmp.db").is_file()


@pytest.mark.parametrize("verb", ["scan", "import"])
def test_dir_outside_the_root_is_refused(verb: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    out = run(verb, str(outside), "--root", str(root), tmp=tmp_path)
    assert out.returncode != 0
    assert "outside the root folder" in out.stderr
    link = root / "sneaky"
    link.symlink_to(outside)
    out = run(verb, str(link), "--root", str(root), tmp=tmp_path)
    assert "outside the root folder" in out.stderr


def test_bad_environment_value_is_a_clear_error(tmp_path: Path) -> None:
    out = run("params", "--root", str(tmp_path), env={"WKMP_MUSICBRAINZ_RATE": "fast"}, tmp=tmp_path)
    assert out.returncode == 2
    assert "musicbrainz_rate" in out.stderr
