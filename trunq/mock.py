"""MockTarget: an in-memory target for testing pipelines without touching the disk.

All mock targets share one store (``MockTarget.fs``), a dict from path to bytes. The store
lives in a small manager process started on first use, so that steps run in forked
workers (``workers=2``) write where the test reads. Call ``MockFileSystem.shutdown()`` to
stop that process early (it also stops when the interpreter exits).
"""

from __future__ import annotations

import io
import multiprocessing
import sys
from typing import Any

from trunq.core import format as formats
from trunq.target import FileSystemTarget

__all__ = ["MockFileSystem", "MockTarget"]


class MockFileSystem:
    """The shared in-memory store behind every ``MockTarget``."""

    _data: Any = None
    _manager: Any = None

    def get_all_data(self) -> Any:
        """The store itself: a dict-like mapping from path to bytes."""
        cls = MockFileSystem
        if cls._data is None:
            cls._manager = multiprocessing.Manager()
            cls._data = cls._manager.dict()
        return cls._data

    @classmethod
    def shutdown(cls) -> None:
        """Stop the manager process (its data is lost); the next use starts a new one."""
        manager, cls._manager, cls._data = cls._manager, None, None
        if manager is not None:
            manager.shutdown()

    def get_data(self, path: str) -> bytes:
        return self.get_all_data()[path]

    def exists(self, path: str) -> bool:
        return path in self.get_all_data()

    def copy(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        data = self.get_all_data()
        if raise_if_exists and dest in data:
            raise RuntimeError(f"Destination exists: {dest}")
        data[dest] = data[path]

    def move(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        data = self.get_all_data()
        if raise_if_exists and dest in data:
            raise RuntimeError(f"Destination exists: {dest}")
        data[dest] = data.pop(path)

    def rename_dont_move(self, path: str, dest: str) -> None:
        self.move(path, dest, raise_if_exists=True)

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        """Remove ``path``; with ``recursive``, every path starting with it too."""
        data = self.get_all_data()
        if not recursive:
            data.pop(path)
            return
        for key in [key for key in data.keys() if key.startswith(path)]:
            data.pop(key, None)

    def listdir(self, path: str) -> list[str]:
        """The stored paths starting with ``path`` (a prefix match, no globbing)."""
        return [key for key in self.get_all_data().keys() if key.startswith(path)]

    def isdir(self, path: str) -> bool:
        return bool(self.listdir(path))

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Directories are implicit in a flat store: nothing to do."""

    def clear(self) -> None:
        self.get_all_data().clear()


class MockTarget(FileSystemTarget):
    """A target kept in memory; ``open('w')`` stores its bytes on a successful close."""

    fs = MockFileSystem()

    def __init__(self, fn: str, is_tmp: bool | None = None, mirror_on_stderr: bool = False,
                 format: formats.Format | None = None) -> None:
        super().__init__(fn)
        self._mirror_on_stderr = mirror_on_stderr
        self._format_given = format is not None
        self.format = format or formats.get_default_format()

    def exists(self) -> bool:
        return self.fs.exists(self.path)

    def remove(self) -> None:
        self.fs.remove(self.path)

    def move(self, path: str, raise_if_exists: bool = False) -> None:
        self.fs.move(self.path, path, raise_if_exists)

    def rename(self, *args: Any, **kwargs: Any) -> None:
        self.move(*args, **kwargs)

    def open(self, mode: str = "r") -> Any:
        rw = mode.replace("b", "").replace("t", "")
        fmt = self.format if self._format_given or "b" not in mode else formats.Nop
        if rw == "w":
            return fmt.pipe_writer(_MockWriter(self))
        if rw == "r":
            return fmt.pipe_reader(io.BufferedReader(io.BytesIO(self.fs.get_data(self.path))))
        raise ValueError(f"unsupported mode {mode!r} (use 'r' or 'w')")


class _MockWriter(io.BytesIO):
    """Collects bytes; a successful close stores them, an abort drops them."""

    def __init__(self, target: MockTarget) -> None:
        super().__init__()
        self._target = target
        self._line_start = True

    def write(self, data: Any) -> int:
        if self._target._mirror_on_stderr:
            self._mirror(bytes(data).decode("utf8", errors="replace"))
        return super().write(data)

    def _mirror(self, text: str) -> None:
        """Echo to stderr, each line prefixed with the target's path."""
        for line in text.splitlines(keepends=True):
            if self._line_start:
                sys.stderr.write(self._target.path + ": ")
            sys.stderr.write(line)
            self._line_start = line.endswith("\n")

    def close(self) -> None:
        if not self.closed:
            self._target.fs.get_all_data()[self._target.path] = self.getvalue()
        super().close()

    def abort(self) -> None:
        if not self.closed:
            super().close()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        self.abort()
