"""Configuration: ``trunq.toml`` or luigi-style ``trunq.cfg``, plus environment overrides.

Search order, later wins: ``/etc/trunq/trunq.cfg``, ``/etc/trunq/trunq.toml``, ``trunq.cfg`` and
``trunq.toml`` in the working directory, then every file named in ``TRUNQ_CONFIG_PATH``
(separated by ``os.pathsep``). Environment variables ``TRUNQ__<SECTION>__<KEY>=value`` override
single options (``TRUNQ__resources__db=2``). Option names use ``_``; ``-`` is accepted.
luigi's spellings of the engine's options (``[core] worker-timeout``) are moved to trunq's
keys as each file is read (``trunq.config_compat.translate_sections``).

The configuration is loaded once (at the edge: the CLI, ``build()``) and read through
``get_config()``. Tests and programs may call ``set_config()`` or ``reload_config()``.
"""

from __future__ import annotations

import configparser
import os
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trunq.core import registry
from trunq.core.errors import ConfigError

ENV_PREFIX = "TRUNQ__"
DEFAULT_FILES = ("/etc/trunq/trunq.cfg", "/etc/trunq/trunq.toml", "trunq.cfg", "trunq.toml")


def _key(name: str) -> str:
    return name.replace("-", "_")


class Configuration:
    """Sections of options. Values keep their TOML types; cfg and env values are strings."""

    def __init__(self, sections: Mapping[str, Mapping[str, Any]] | None = None,
                 files: list[str] | None = None) -> None:
        self._sections: dict[str, dict[str, Any]] = {}
        self.files: list[str] = list(files or [])
        for name, options in (sections or {}).items():
            self.update_section(name, options)

    def update_section(self, section: str, options: Mapping[str, Any]) -> None:
        target = self._sections.setdefault(section, {})
        for key, value in options.items():
            target[_key(key)] = value

    def has_section(self, section: str) -> bool:
        return section in self._sections

    def sections(self) -> list[str]:
        return list(self._sections)

    def section(self, section: str) -> dict[str, Any]:
        return dict(self._sections.get(section, {}))

    def has_option(self, section: str, key: str) -> bool:
        return _key(key) in self._sections.get(section, {})

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self._sections.get(section, {}).get(_key(key), default)

    def set(self, section: str, key: str, value: Any) -> None:
        self._sections.setdefault(section, {})[_key(key)] = value

    def getint(self, section: str, key: str, default: int | None = None) -> int | None:
        value = self.get(section, key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"[{section}] {key} must be an integer, got {value!r}") from None

    def getfloat(self, section: str, key: str, default: float | None = None) -> float | None:
        value = self.get(section, key)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"[{section}] {key} must be a number, got {value!r}") from None

    def getboolean(self, section: str, key: str, default: bool = False) -> bool:
        value = self.get(section, key)
        if value is None or value == "":
            return default
        return parse_bool(value, f"[{section}] {key}")

    def getintdict(self, section: str) -> dict[str, int]:
        """A section of whole numbers (resource capacities): 1.5 or "two" is a ConfigError."""
        result = {}
        for key, value in self._sections.get(section, {}).items():
            if isinstance(value, float) or isinstance(value, bool):
                raise ConfigError(f"[{section}] {key} must be an integer, got {value!r}")
            number = self.getint(section, key) or 0
            if number < 0:
                raise ConfigError(f"[{section}] {key} must not be negative, got {value!r}")
            result[key] = number
        return result


def parse_bool(value: Any, where: str) -> bool:
    """A config boolean: true/false, yes/no, on/off, 1/0 (any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{where} must be true or false, got {value!r}")


def _read_cfg(path: str) -> dict[str, dict[str, Any]]:
    parser = configparser.ConfigParser(interpolation=configparser.ExtendedInterpolation())
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep family names' case
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
        return {name: dict(parser.items(name)) for name in parser.sections()}
    except (configparser.Error, UnicodeDecodeError) as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise ConfigError(f"malformed config file {path}: {first_line}") from None


def _read_toml(path: str) -> dict[str, dict[str, Any]]:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"malformed config file {path}: {exc}") from None
    sections: dict[str, dict[str, Any]] = {}
    for name, value in data.items():
        if not isinstance(value, dict):
            raise ConfigError(f"malformed config file {path}: top-level key {name!r} must be a [section]")
        sections[name] = value
    return sections


def read_file(path: str) -> dict[str, dict[str, Any]]:
    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    return _read_toml(path) if path.endswith(".toml") else _read_cfg(path)


def _env_overrides(environ: Mapping[str, str]) -> Iterator[tuple[str, str, str]]:
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX):
            parts = name[len(ENV_PREFIX):].split("__", 1)
            if len(parts) == 2 and parts[0] and parts[1]:
                yield parts[0], parts[1].lower(), value


def load_config(environ: Mapping[str, str] | None = None, cwd: str | None = None) -> Configuration:
    environ = os.environ if environ is None else environ
    base = Path(cwd or os.getcwd())
    candidates = [p if p.startswith("/") else str(base / p) for p in DEFAULT_FILES]
    explicit = [p for p in environ.get("TRUNQ_CONFIG_PATH", "").split(os.pathsep) if p]
    config = Configuration()
    for path in candidates:
        if os.path.isfile(path):
            _merge(config, path)
    for path in explicit:
        _merge(config, path)
    for section, key, value in _env_overrides(environ):
        config.set(section, key, value)
    return config


def _merge(config: Configuration, path: str) -> None:
    from trunq.config_compat import translate_sections

    for section, options in translate_sections(read_file(path), path).items():
        config.update_section(section, options)
    config.files.append(path)


DEFAULT_REDIS_URL = "redis://localhost:6379/0"


def resolve_redis_url(url: str | None = None, config: Configuration | None = None) -> str:
    """The cluster's Redis: ``url``, else ``$TRUNQ_REDIS_URL``, else ``[core] redis_url``."""
    if url:
        return url
    from_env = os.environ.get("TRUNQ_REDIS_URL")
    if from_env:
        return from_env
    config = config or get_config()
    return str(config.get("core", "redis_url", None) or DEFAULT_REDIS_URL)


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: fit for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))


_current: Configuration | None = None


def get_config() -> Configuration:
    global _current
    if _current is None:
        _current = load_config()
    return _current


def set_config(config: Configuration | None) -> None:
    """Replace the active configuration (None: load again on next use)."""
    global _current
    _current = config
    # parameter defaults come from here; instances built with the old values are dropped
    registry.set_param_source(config, loader=get_config)


def reload_config() -> Configuration:
    set_config(None)
    return get_config()


registry.set_param_source(None, loader=get_config)


@contextmanager
def config_overrides(sections: Mapping[str, Mapping[str, Any]]) -> Iterator[Configuration]:
    """Temporarily layer options on the active configuration (for tests and tools)."""
    previous = get_config()
    layered = Configuration({name: previous.section(name) for name in previous.sections()}, previous.files)
    for name, options in sections.items():
        layered.update_section(name, options)
    set_config(layered)
    try:
        yield layered
    finally:
        set_config(previous)


def recording_enabled() -> bool:
    """Whether step executions are recorded as Runs ($TRUNQ_RECORD_STEPS, on unless 0/false/no/off)."""
    return os.environ.get("TRUNQ_RECORD_STEPS", "1").strip().lower() not in ("0", "false", "no", "off")
