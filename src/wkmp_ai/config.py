"""Service settings, built once at start-up and passed down (docs/design.md, *Configuration*).

Precedence for every setting: command-line flag > environment > config file > default.
The config file is ``wkmp-ai.toml``, looked for in the root folder and then in the user config
directory (``$XDG_CONFIG_HOME/wkmp/`` or ``~/.config/wkmp/``). The root folder itself can only come
from the user config directory's file (the root folder's file is found after the root is known).

Example ``wkmp-ai.toml``::

    root_folder = "/srv/music"
    acoustid_api_key = "..."
    musicbrainz_url = "http://mirror.local:5000"
    musicbrainz_rate = 10.0
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wkmp_ai import __version__
from wkmp_ai.errors import ErrorCode, Refused

__all__ = [
    "CONFIG_FILENAME",
    "DB_FILENAME",
    "ConfigError",
    "OutsideRoot",
    "PathRefused",
    "Settings",
    "load_settings",
    "resolve_inside_root",
]

CONFIG_FILENAME = "wkmp-ai.toml"
DB_FILENAME = "wkmp.db"
DEFAULT_PORT = 5723
WKMP_UI_PORT = 5720
CONTACT_URL = "https://github.com/MangoCats/McRhythm"

# Environment names and the settings field each one fills (docs/design.md, *Configuration*).
_ENV = {
    "WKMP_ROOT": "root_folder",
    "WKMP_HOST": "host",
    "WKMP_PORT": "port",
    "ACOUSTID_API_KEY": "acoustid_api_key",
    "WKMP_ACOUSTID_URL": "acoustid_url",
    "WKMP_MUSICBRAINZ_URL": "musicbrainz_url",
    "WKMP_ACOUSTICBRAINZ_URL": "acousticbrainz_url",
    "WKMP_COVERART_URL": "coverart_url",
    "WKMP_MUSICBRAINZ_RATE": "musicbrainz_rate",
    "WKMP_ACOUSTID_RATE": "acoustid_rate",
    "WKMP_ACOUSTICBRAINZ_RATE": "acousticbrainz_rate",
    "WKMP_COVERART_RATE": "coverart_rate",
    "WKMP_UI_ORIGINS": "ui_origins",
    "WKMP_ALLOWED_HOSTS": "allowed_hosts",
}


class ConfigError(Refused, ValueError):
    """A setting has a value that cannot be used."""

    error = "invalid_config"


@dataclass(frozen=True)
class Settings:
    root_folder: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    acoustid_api_key: str | None = field(default=None, repr=False)
    acoustid_url: str = "https://api.acoustid.org"
    musicbrainz_url: str = "https://musicbrainz.org"
    acousticbrainz_url: str = "https://acousticbrainz.org"
    coverart_url: str = "https://coverartarchive.org"
    musicbrainz_rate: float = 1.0
    acoustid_rate: float = 3.0
    acousticbrainz_rate: float = 1.0
    coverart_rate: float = 5.0
    ui_origins: tuple[str, ...] = (f"http://localhost:{WKMP_UI_PORT}", f"http://127.0.0.1:{WKMP_UI_PORT}")
    allowed_hosts: tuple[str, ...] = ()
    config_file: Path | None = None

    @property
    def db_path(self) -> Path:
        return self.root_folder / DB_FILENAME

    @property
    def user_agent(self) -> str:
        return f"wkmp-ai/{__version__} ( {CONTACT_URL} )"

    def hosts_allowed(self) -> frozenset[str]:
        """Host names (without port) that requests may name in their ``Host`` header."""
        names = {"localhost", "127.0.0.1", "::1", "[::1]", *self.allowed_hosts}
        if self.host not in {"0.0.0.0", "::", ""}:
            names.add(self.host)
        return frozenset(names)


def _user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "wkmp"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc


def _flatten(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Accept both flat keys and the older ``[root_folder] path = ...`` table."""
    flat = dict(doc)
    root = flat.get("root_folder")
    if isinstance(root, Mapping):
        flat["root_folder"] = root.get("path")
    return flat


def _coerce(name: str, value: Any) -> Any:
    kind = Settings.__dataclass_fields__[name].type
    try:
        if name == "root_folder":
            return Path(os.path.expanduser(str(value))).resolve()
        if name == "port":
            port = int(value)
            if not 0 < port < 65536:
                raise ValueError("out of range")
            return port
        if name.endswith("_rate"):
            rate = float(value)
            if not 0 < rate < math.inf:
                raise ValueError("must be a positive number of requests per second")
            return rate
        if name.endswith("_url"):
            return _url(str(value).rstrip("/"), path_allowed=True)
        if "tuple" in str(kind):
            items = value.split(",") if isinstance(value, str) else list(value)
            cleaned = tuple(str(item).strip().rstrip("/") for item in items if str(item).strip())
            if name == "ui_origins":
                return tuple(_url(item, path_allowed=False) for item in cleaned)
            if name == "allowed_hosts":
                for item in cleaned:
                    if not _HOST_NAME.fullmatch(item):
                        raise ValueError(f"{item} is not a host name (a name, an IPv4 address or [IPv6])")
            return cleaned
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid value for {name}: {value} ({exc})") from exc


_HOST_NAME = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def _url(text: str, *, path_allowed: bool) -> str:
    """``text`` if it is an http(s) URL with a host (and, for an origin, nothing after the port)."""
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{text} is not an http:// or https:// address")
    if not path_allowed and (parts.path or parts.query or parts.fragment):
        raise ValueError(f"{text} is not an origin (scheme://host:port, nothing after)")
    return text


def load_settings(overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from flags (``overrides``, None values ignored), env and config files."""
    env = os.environ if env is None else env
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    from_env = {field_name: env[var] for var, field_name in _ENV.items() if env.get(var)}

    user_file = _user_config_dir() / CONFIG_FILENAME
    user_doc = _flatten(_read_toml(user_file))
    root_value = flags.get("root_folder") or from_env.get("root_folder") or user_doc.get("root_folder")
    root = _coerce("root_folder", root_value or "~/Music")

    root_file = root / CONFIG_FILENAME
    root_doc = _flatten(_read_toml(root_file))
    file_values = {**user_doc, **root_doc}
    config_file = root_file if root_doc else (user_file if user_doc else None)

    values: dict[str, Any] = {}
    for name in Settings.__dataclass_fields__:
        if name in {"root_folder", "config_file"}:
            continue
        for source in (flags, from_env, file_values):
            if source.get(name) is not None:
                values[name] = _coerce(name, source[name])
                break
    return Settings(root_folder=root, config_file=config_file, **values)


NAME_MAX = 255  # bytes in one path component (Linux, and most file systems)
PATH_MAX = 4096  # bytes in a whole path (Linux)


def resolve_inside_root(root: Path, candidate: str | os.PathLike[str]) -> Path:
    """Canonicalise ``candidate`` (relative paths are taken from the root) and require it inside ``root``.

    Raises :class:`OutsideRoot` with a message fit for a user when it lies outside, and
    :class:`PathRefused` when it cannot name a file at all: not UTF-8 text (``files.path`` could not
    hold it), a NUL character, longer than the file system allows. Both are ValueErrors.
    """
    text = os.fspath(candidate)
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise PathRefused("the path is not valid UTF-8 text") from None
    if b"\0" in encoded:
        raise PathRefused("the path contains a NUL character")
    if len(encoded) >= PATH_MAX or any(len(part) > NAME_MAX for part in encoded.split(b"/")):
        raise PathRefused(f"the path is too long (at most {NAME_MAX} bytes a name, {PATH_MAX - 1} in all)")
    root = Path(root).resolve()
    path = Path(os.path.expanduser(text))
    if not path.is_absolute():
        path = root / path
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise OutsideRoot(f"{text} is outside the root folder {root}")
    return resolved


class PathRefused(Refused, ValueError):
    """A path a request or command names that cannot be used (the API: 400 ``PATH_OUTSIDE_ROOT``)."""

    code = ErrorCode.PATH_OUTSIDE_ROOT
    error = ErrorCode.PATH_OUTSIDE_ROOT.value


class OutsideRoot(PathRefused):
    """The path lies outside the root folder, once canonicalised (symlinks resolved)."""
