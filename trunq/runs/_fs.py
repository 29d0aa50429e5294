"""Small filesystem and process helpers shared by the Run modules (stdlib only)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trunq import procs

DEFAULT_RUNS_DIR = "trunq-runs"
HOST = procs.HOST


def runs_root() -> Path:
    """The folder holding one sub-folder per run.

    ``$TRUNQ_RUNS_DIR`` wins, then ``[runs] root`` from trunq's config (when that module
    exists), else ``./trunq-runs`` in the current working directory.
    """
    from_env = os.environ.get("TRUNQ_RUNS_DIR")
    if from_env:
        return Path(from_env).expanduser().absolute()
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
        loaded: object
        try:
            from trunq import config as loaded
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
    procs.atomic_write_json(path, data, durable=False)


def write_bytes_atomic(path: Path, payload: bytes) -> None:
    procs.atomic_write(path, payload, durable=False)


def read_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def process_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (Linux), to tell a reused pid apart."""
    return procs.start_stamp(pid)


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
    return procs.pid_alive(pid, start_ticks, host, other_host_alive=True)
