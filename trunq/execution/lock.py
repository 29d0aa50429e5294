"""A per-machine lock so the same build does not run twice at once (``no_lock=False``).

A kernel lock (``flock``) on ``<lock dir>/<digest of the step ids>.pid``: the kernel drops it
when its holder dies, however it dies, so a killed build never blocks the next one. The file
also keeps the holder's pid, for the "already running" message only. Processes forked while
the lock is held (the worker pool) close their copy with ``close_inherited()``: an inherited
descriptor would keep the lock held after the build itself died.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from typing import Any

from trunq import procs

_HELD: set[Any] = set()  # open lock files of this process


def close_inherited() -> None:
    """In a forked child: close the lock files inherited from the parent, without unlocking.

    ``flock`` belongs to the open file; unlocking here would release the parent's lock, while
    closing only drops this process's reference to it.
    """
    for handle in list(_HELD):
        try:
            handle.close()
        except OSError:
            pass
    _HELD.clear()


class BuildLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self._handle: Any = None

    @classmethod
    def for_steps(cls, steps: list[Any], config: Any, directory: str | None = None) -> BuildLock:
        """``directory``: ``--lock-pid-dir``; else ``[core] lock_pid_dir``; else ``$TMPDIR/trunq-locks``."""
        directory = directory or config.get("core", "lock_pid_dir") or os.path.join(tempfile.gettempdir(), "trunq-locks")
        os.makedirs(directory, exist_ok=True)
        digest = hashlib.md5("\n".join(sorted(s.step_id for s in steps)).encode()).hexdigest()
        return cls(os.path.join(directory, f"{digest}.pid"))

    def acquire(self) -> bool:
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        _HELD.add(handle)
        return True

    def holder(self) -> int | None:
        """The pid written by the holder, when that process is alive (else None)."""
        try:
            with open(self.path) as handle:
                text = handle.read().strip()
        except OSError:
            return None
        pid = int(text) if text.isdigit() else None
        return pid if pid and procs.pid_alive(pid) else None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            _HELD.discard(self._handle)
            self._handle.close()
            self._handle = None
