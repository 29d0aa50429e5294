"""Targets: the outputs steps produce. A file target is never visible half-written.

``LocalTarget.open("w")`` writes to a temporary file beside the destination and renames it
into place only when the file is closed without an error. ``temporary_path()`` does the
same for any program that writes a path itself (a directory, an external tool).
"""

from __future__ import annotations

import io
import os
import random
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

_TMP_MARK = "-trunq-tmp-"
_known_dirs: set[str] = set()


# Who hears of paths read and written: trunq.runs installs itself when a Run can be active
# (core does not import the rooms above it).
_artifact_listener: Callable[[str, str], None] | None = None


def set_artifact_listener(listener: Callable[[str, str], None] | None) -> None:
    """Install ``listener(path, "upstream" | "downstream")`` (None to remove)."""
    global _artifact_listener
    _artifact_listener = listener


def _note_artifact(path: str, direction: str) -> None:
    """Tell an active Run (if any) that this path was read or written."""
    if _artifact_listener is not None:
        _artifact_listener(path, direction)


class Target(ABC):
    """Something a step produces or needs. Only ``exists()`` is required."""

    @abstractmethod
    def exists(self) -> bool: ...


class FileSystemTarget(Target):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def remove(self) -> None:
        if os.path.isdir(self.path) and not os.path.islink(self.path):
            shutil.rmtree(self.path)
        elif os.path.lexists(self.path):
            os.remove(self.path)

    @contextmanager
    def temporary_path(self) -> Iterator[str]:
        """A fresh path to write to; moved onto ``self.path`` when the block succeeds.

        The move refuses to replace an existing destination (two writers of one output
        are a bug to report, not to hide). On an error the temporary path is removed.
        """
        slash = self.path.endswith("/")
        base = self.path.rstrip("/")
        os.makedirs(os.path.dirname(base) or ".", exist_ok=True)
        tmp = f"{base}{_TMP_MARK}{random.randrange(10**9, 10**10)}"
        try:
            yield tmp + ("/" if slash else "")
        except BaseException:
            _remove_quietly(tmp)
            raise
        if os.path.lexists(base):
            _remove_quietly(tmp)
            raise FileExistsError(f"cannot move {tmp} to {base}: destination already exists")
        os.rename(tmp, base)
        _note_artifact(base, "downstream")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.path == other.path  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.path))


class LocalTarget(FileSystemTarget):
    """A file on the local file system, written atomically."""

    def __init__(self, path: str | os.PathLike[str] | None = None, format: Any = None, is_tmp: bool = False):
        if path is None:
            if not is_tmp:
                raise ValueError("LocalTarget needs a path (or is_tmp=True)")
            path = os.path.join(tempfile.gettempdir(), f"trunq-tmp-{random.randrange(10**9, 10**10)}")
        super().__init__(path)
        self.format = format
        self.is_tmp = is_tmp

    @property
    def fs(self) -> LocalFileSystem:
        return LocalFileSystem()

    def open(self, mode: str = "r") -> IO[Any]:
        binary = "b" in mode
        if "w" in mode:
            return AtomicLocalFile(self.path, binary=binary)
        if "r" in mode:
            _note_artifact(self.path, "upstream")
            return open(self.path, "rb" if binary else "r", encoding=None if binary else "utf-8")
        raise ValueError(f"unsupported mode {mode!r} (use 'r', 'w', 'rb' or 'wb')")

    def makedirs(self) -> None:
        _make_parent(self.path)

    def move(self, new_path: str, raise_if_exists: bool = False) -> None:
        self.fs.move(self.path, new_path, raise_if_exists=raise_if_exists)

    def copy(self, new_path: str) -> None:
        _make_parent(new_path)
        shutil.copy2(self.path, new_path)

    def __del__(self) -> None:
        if getattr(self, "is_tmp", False) and os.path.exists(self.path):
            _remove_quietly(self.path)


class AtomicLocalFile(io.TextIOWrapper):
    """A file that appears at its path only when closed after a successful write."""

    def __init__(self, path: str, binary: bool = False) -> None:
        _make_parent(path)
        self.path = path
        self.tmp_path = f"{path}{_TMP_MARK}{random.randrange(10**9, 10**10)}"
        self._binary = binary
        try:
            raw = open(self.tmp_path, "wb")
        except FileNotFoundError:  # the parent was removed since we last made it
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            raw = open(self.tmp_path, "wb")
        super().__init__(raw, encoding="utf-8", write_through=binary)
        self._committed = False

    def write(self, data: Any) -> int:  # type: ignore[override]
        if self._binary:
            self.flush()
            return self.buffer.write(data)
        return super().write(data)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        if not self._committed:
            self._committed = True
            os.replace(self.tmp_path, self.path)
            _note_artifact(self.path, "downstream")

    def discard(self) -> None:
        """Throw away what was written; the destination is untouched."""
        if not self.closed:
            self._committed = True
            super().close()
        _remove_quietly(self.tmp_path)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.discard()
        else:
            self.close()

    def __del__(self) -> None:
        # Garbage-collected without close(): the write did not finish, keep nothing.
        if not getattr(self, "_committed", True):
            self.discard()


class LocalFileSystem:
    """The few file-system operations tools like the range inference need."""

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def listdir(self, path: str) -> list[str]:
        return [os.path.join(path, name) for name in os.listdir(path)]

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        if raise_if_exists and os.path.exists(path):
            raise FileExistsError(path)
        if parents:
            os.makedirs(path, exist_ok=True)
        elif not os.path.isdir(path):
            os.mkdir(path)

    def remove(self, path: str, recursive: bool = True) -> None:
        FileSystemTarget(path).remove()

    def move(self, old: str, new: str, raise_if_exists: bool = False) -> None:
        if raise_if_exists and os.path.exists(new):
            raise FileExistsError(new)
        _make_parent(new)
        os.replace(old, new)

    def rename_dont_move(self, old: str, new: str) -> None:
        self.move(old, new, raise_if_exists=True)


def _make_parent(path: str) -> None:
    parent = os.path.dirname(path)
    if parent and parent not in _known_dirs:
        os.makedirs(parent, exist_ok=True)
        _known_dirs.add(parent)


def _remove_quietly(path: str) -> None:
    try:
        FileSystemTarget(path).remove()
    except OSError:
        pass
