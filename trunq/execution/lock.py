"""A per-machine lock so the same build does not run twice at once (``no_lock=False``)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from typing import Any


class BuildLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self._handle: Any = None

    @classmethod
    def for_steps(cls, steps: list[Any], config: Any) -> BuildLock:
        directory = config.get("core", "lock_pid_dir") or os.path.join(tempfile.gettempdir(), "trunq-locks")
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
        return True

    def holder(self) -> str:
        try:
            with open(self.path) as handle:
                return handle.read().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
