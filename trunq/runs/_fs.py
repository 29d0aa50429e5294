"""Small filesystem and process helpers shared by the Run modules (stdlib only)."""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_RUNS_DIR = "trunq-runs"
HOST = socket.gethostname()


def runs_root() -> Path:
    """The folder holding one sub-folder per run.

    ``$TRUNQ_RUNS_DIR`` wins, then ``[runs] root`` from trunq's config (when that module
    exists), else ``./trunq-runs`` in the current working directory.
    """
    from_env = os.environ.get("TRUNQ_RUNS_DIR")
    if from_env:
        root = Path(from_env).expanduser().absolute()
        if root.exists() and not root.is_dir():
            from trunq.core.errors import ConfigError

            raise ConfigError(f"TRUNQ_RUNS_DIR={from_env} is not a directory")
        return root
    from_config = _configured_root()
    if from_config:
        return Path(from_config).expanduser().absolute()
    return Path.cwd() / DEFAULT_RUNS_DIR


_NO_CONFIG = object()
_config_module: object | None = None


def _configured_root() -> str | None:
    """``[runs] root`` from ``trunq.config``; tolerant because that module is optional here."""
    global _config_module
    if _config_module is None:
        try:
            from trunq import config as loaded  # type: ignore[attr-defined]
        except ImportError:
            loaded = _NO_CONFIG  # a failed import is slow: remember it
        _config_module = loaded
    config = _config_module
    if config is _NO_CONFIG:
        return None
    getter = getattr(config, "get_value", None) or getattr(config, "get", None)
    if getter is None:
        return None
    try:
        value = getter("runs", "root")
    except Exception:  # a missing section/key must not break run recording
        return None
    return str(value) if value else None


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def parse_time(value: Any) -> datetime | None:
    """Read an ISO-8601 string (trunq) or a nanosecond epoch string (Runhouse)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1e9, UTC)
    return datetime.fromisoformat(text)


def safe_name(name: str) -> str:
    """A run name usable as one folder name."""
    return name.replace(os.sep, "_").replace("/", "_")


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` so that a reader never sees a partial file (no fsync: cheap)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    payload = json.dumps(data, default=str).encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, payload)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_bytes_atomic(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def process_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19])


_OWN_START: dict[int, int | None] = {}
_OWN_PGID: dict[int, int] = {}


def own_pgid() -> int:
    pid = os.getpid()
    if pid not in _OWN_PGID:
        _OWN_PGID[pid] = os.getpgid(0)
    return _OWN_PGID[pid]


def own_start_ticks() -> int | None:
    pid = os.getpid()
    if pid not in _OWN_START:
        _OWN_START[pid] = process_start_ticks(pid)
    return _OWN_START[pid]


def pid_alive(pid: int | None, start_ticks: int | None = None, host: str | None = None) -> bool:
    """True unless we can tell that the process is gone (other hosts are assumed alive)."""
    if not pid:
        return False
    if host and host != HOST:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _is_zombie(pid):
        return False
    if start_ticks is not None:
        current = process_start_ticks(pid)
        if current is not None and current != start_ticks:
            return False  # the pid was reused by another process
    return True


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False
