"""Settings a user can get wrong are refused at start with a clear message (config/params validation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wkmp_ai.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WKMP_MUSICBRAINZ_RATE": "inf"}, "musicbrainz_rate"),
        ({"WKMP_ACOUSTID_RATE": "nan"}, "acoustid_rate"),
        ({"WKMP_MUSICBRAINZ_URL": "file:///etc/passwd"}, "musicbrainz_url"),
        ({"WKMP_ACOUSTID_URL": "api.acoustid.org"}, "acoustid_url"),
        ({"WKMP_COVERART_URL": "http://"}, "coverart_url"),
        ({"WKMP_UI_ORIGINS": "localhost:5720"}, "ui_origins"),
        ({"WKMP_UI_ORIGINS": "http://localhost:5720/path"}, "ui_origins"),
        ({"WKMP_ALLOWED_HOSTS": "evil.example:80@x"}, "allowed_hosts"),
        ({"WKMP_PORT": "70000"}, "port"),
    ],
)
def test_unusable_settings_are_refused(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"root_folder": tmp_path / "music"}, env=env)


def test_usable_settings_pass(tmp_path: Path) -> None:
    settings = load_settings(
        {"root_folder": tmp_path / "music"},
        env={
            "WKMP_MUSICBRAINZ_URL": "http://mirror.local:5000/",
            "WKMP_MUSICBRAINZ_RATE": "10",
            "WKMP_UI_ORIGINS": "http://localhost:5720, https://player.example",
            "WKMP_ALLOWED_HOSTS": "music.local,[fe80::1]",
        },
    )
    assert settings.musicbrainz_url == "http://mirror.local:5000"
    assert settings.musicbrainz_rate == 10.0
    assert settings.ui_origins == ("http://localhost:5720", "https://player.example")
    assert settings.allowed_hosts == ("music.local", "[fe80::1]")
