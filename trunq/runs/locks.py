"""The ``.lock`` file that makes one execution own a run folder (O_CREAT|O_EXCL, owner pid inside).

The launcher creates it; the child process adopts it (rewrites it with its own pid) and
removes it when it has written its final status. A lock whose owner is dead is stale and
may be broken by the next caller.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from trunq.runs import _fs

LOCK_FILE = ".lock"
UNREADABLE_GRACE_SECONDS = 5.0


def lock_path(folder: Path) -> Path:
    return folder / LOCK_FILE


def acquire(folder: Path) -> str | None:
    """Create the lock; returns its token, or None when someone else holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    try:
        fd = os.open(lock_path(folder), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return None
    try:
        os.write(fd, json.dumps(_owner(token)).encode())
    finally:
        os.close(fd)
    return token


def adopt(folder: Path, token: str) -> None:
    """Make the current process the owner (called by the child process)."""
    _fs.write_json_atomic(lock_path(folder), _owner(token))


def _owner(token: str) -> dict[str, Any]:
    return {"token": token, "pid": os.getpid(), "pid_start": _fs.own_start_ticks(),
            "host": _fs.HOST, "since": time.time()}


def read(folder: Path) -> dict[str, Any] | None:
    """The lock's content; ``{}`` while it is being written; None when there is no lock."""
    try:
        text = lock_path(folder).read_text()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def is_stale(folder: Path, info: dict[str, Any]) -> bool:
    if not info:  # still being written, or left half-written by a crash
        try:
            age = time.time() - lock_path(folder).stat().st_mtime
        except FileNotFoundError:
            return False
        return age > UNREADABLE_GRACE_SECONDS
    return not _fs.pid_alive(info.get("pid"), info.get("pid_start"), info.get("host"))


def release(folder: Path, token: str | None = None) -> None:
    """Remove the lock; with ``token``, only if it is still ours."""
    if token is not None:
        info = read(folder)
        if info is None or (info and info.get("token") != token):
            return
    lock_path(folder).unlink(missing_ok=True)


def break_stale(folder: Path, info: dict[str, Any]) -> None:
    """Remove a stale lock, unless it changed hands since ``info`` was read."""
    if read(folder) == info:
        lock_path(folder).unlink(missing_ok=True)
