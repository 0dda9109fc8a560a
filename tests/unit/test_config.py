"""Settings precedence: flag > environment > config file > default (docs/design.md, *Configuration*)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wkmp_ai.config import ConfigError, load_settings, resolve_inside_root


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "xdg"
    (folder / "wkmp").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return folder / "wkmp"


def test_default_root_is_home_music(xdg: Path, tmp_path: Path) -> None:
    settings = load_settings(env={})
    assert settings.root_folder == (tmp_path / "home" / "Music").resolve()
    assert settings.db_path == settings.root_folder / "wkmp.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 5723)
    assert settings.musicbrainz_url == "https://musicbrainz.org"
    assert settings.musicbrainz_rate == 1.0 and settings.acoustid_rate == 3.0


def test_root_precedence(xdg: Path, tmp_path: Path) -> None:
    (xdg / "wkmp-ai.toml").write_text(f'root_folder = "{tmp_path / "from_file"}"\n')
    assert load_settings(env={}).root_folder == tmp_path / "from_file"
    env = {"WKMP_ROOT": str(tmp_path / "from_env")}
    assert load_settings(env=env).root_folder == tmp_path / "from_env"
    assert load_settings({"root_folder": tmp_path / "from_flag"}, env=env).root_folder == tmp_path / "from_flag"


def test_impl004_table_form_is_read(xdg: Path, tmp_path: Path) -> None:
    (xdg / "wkmp-ai.toml").write_text(f'[root_folder]\npath = "{tmp_path / "tbl"}"\n')
    assert load_settings(env={}).root_folder == tmp_path / "tbl"


def test_service_settings_precedence_and_root_folder_file(xdg: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (xdg / "wkmp-ai.toml").write_text('musicbrainz_url = "http://user-file/"\nacoustid_rate = 7\nport = 6000\n')
    (root / "wkmp-ai.toml").write_text('musicbrainz_url = "http://root-file"\n')
    settings = load_settings({"root_folder": root}, env={})
    assert settings.musicbrainz_url == "http://root-file"  # root folder's file before the user's
    assert settings.acoustid_rate == 7.0 and settings.port == 6000
    assert settings.config_file == root / "wkmp-ai.toml"
    settings = load_settings({"root_folder": root}, env={"WKMP_MUSICBRAINZ_URL": "http://env/", "WKMP_PORT": "6001"})
    assert settings.musicbrainz_url == "http://env" and settings.port == 6001
    settings = load_settings({"root_folder": root, "port": 6002}, env={"WKMP_PORT": "6001"})
    assert settings.port == 6002


def test_api_key_is_not_in_repr(xdg: Path) -> None:
    settings = load_settings(env={"ACOUSTID_API_KEY": "s3cret-key"})
    assert settings.acoustid_api_key == "s3cret-key"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    "env",
    [{"WKMP_PORT": "0"}, {"WKMP_PORT": "abc"}, {"WKMP_MUSICBRAINZ_RATE": "0"}, {"WKMP_ACOUSTID_RATE": "-1"}],
)
def test_bad_values_are_config_errors(xdg: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(env=env)


def test_broken_config_file_is_a_clear_error(xdg: Path) -> None:
    (xdg / "wkmp-ai.toml").write_text("this is = = not toml")
    with pytest.raises(ConfigError, match=r"wkmp-ai\.toml"):
        load_settings(env={})


def test_resolve_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    assert resolve_inside_root(root, "a") == root / "a"
    assert resolve_inside_root(root, root / "a" / ".." / "a") == root / "a"
    assert resolve_inside_root(root, root) == root
    for outside in ("..", "/etc", root / ".." / "root2", "a/../../x"):
        with pytest.raises(ValueError, match="outside the root folder"):
            resolve_inside_root(root, outside)
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(ValueError):
        resolve_inside_root(root, "link")
