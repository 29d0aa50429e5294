"""Targets: the outputs steps produce. A file target is never visible half-written.

``LocalTarget.open("w")`` writes to a temporary file beside the destination and renames it
into place only when the file is closed without an error. ``temporary_path()`` does the
same for any program that writes a path itself (a directory, an external tool).
"""

from __future__ import annotations

import errno
import io
import os
import random
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from trunq.core import format as formats

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


class FileSystemException(Exception):
    """A file-system operation could not be done."""


class FileAlreadyExists(FileSystemException, FileExistsError):
    """The destination of a move, copy or mkdir exists (and ``raise_if_exists`` was asked)."""


class MissingParentDirectory(FileSystemException, FileNotFoundError):
    """``mkdir(parents=False)`` under a directory that does not exist."""


class NotADirectory(FileSystemException, NotADirectoryError):
    """``mkdir`` of a path that exists and is not a directory."""


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

    def __str__(self) -> str:  # as luigi: str(target) is its path
        return self.path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.path == other.path

    def __hash__(self) -> int:
        return hash((type(self), self.path))


class LocalTarget(FileSystemTarget):
    """A file on the local file system, written atomically.

    ``format`` (see ``trunq.format``) decides the stream ``open()`` gives: text by default,
    bytes with ``format=trunq.format.Nop``, compressed with ``Gzip``/``Bzip2``. Without a
    format, a ``"b"`` in the mode (``"rb"``, ``"wb"``) also gives bytes.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, format: Any = None, is_tmp: bool = False):
        if not path:
            if not is_tmp:
                raise ValueError("LocalTarget needs a path (or is_tmp=True)")
            path = os.path.join(tempfile.gettempdir(), f"trunq-tmp-{random.randrange(10**9, 10**10)}")
        super().__init__(path)
        self._format_given = format is not None
        self.format = format if format is not None else formats.get_default_format()
        self.is_tmp = is_tmp

    @property
    def fs(self) -> LocalFileSystem:
        return _LOCAL_FS

    def open(self, mode: str = "r") -> IO[Any]:
        rw = mode.replace("b", "").replace("t", "")
        fmt = self.format if self._format_given or "b" not in mode else formats.Nop
        if rw == "w":
            return fmt.pipe_writer(AtomicLocalFile(self.path))
        if rw == "r":
            _note_artifact(self.path, "upstream")
            return fmt.pipe_reader(io.BufferedReader(io.FileIO(self.path, "r")))
        raise ValueError(f"unsupported mode {mode!r} (use 'r', 'w', 'rb' or 'wb')")

    def bulk_lister(self, directory: str) -> list[str]:
        """The names in ``directory``, one level (``fs.listdir`` walks every file below, as
        luigi's): range tools (``trunq.tools.bulk``) list each output directory once."""
        return os.listdir(directory)

    def makedirs(self) -> None:
        """Create the parent directories of the path, if missing."""
        parent = os.path.dirname(os.path.normpath(self.path))
        if parent:
            os.makedirs(parent, exist_ok=True)

    def move(self, new_path: str | os.PathLike[str], raise_if_exists: bool = False) -> None:
        self.fs.move(self.path, os.fspath(new_path), raise_if_exists=raise_if_exists)

    move_dir = move

    def copy(self, new_path: str | os.PathLike[str], raise_if_exists: bool = False) -> None:
        self.fs.copy(self.path, os.fspath(new_path), raise_if_exists=raise_if_exists)

    def __del__(self) -> None:
        if getattr(self, "is_tmp", False) and os.path.exists(self.path):
            _remove_quietly(self.path)


class AtomicLocalFile(io.BufferedWriter):
    """Bytes that appear at their path only when closed after a successful write.

    The temporary file sits beside the destination (same directory, so same file system)
    and is renamed into place by ``close()``; ``abort()`` (an exception in the ``with``
    block, or being dropped unclosed) removes it and leaves the destination untouched.
    """

    def __init__(self, path: str) -> None:
        _make_parent(path)
        self.path = path
        self.tmp_path = f"{path}{_TMP_MARK}{random.randrange(10**9, 10**10)}"
        try:
            raw = io.FileIO(self.tmp_path, "w")
        except FileNotFoundError:  # the parent was removed since we last made it
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            raw = io.FileIO(self.tmp_path, "w")
        super().__init__(raw)
        self._committed = False

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        if not self._committed:
            self._committed = True
            os.replace(self.tmp_path, self.path)
            _note_artifact(self.path, "downstream")

    def abort(self) -> None:
        """Throw away what was written; the destination is untouched."""
        self._committed = True
        if not self.closed:
            super().close()
        _remove_quietly(self.tmp_path)

    discard = abort

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def __del__(self) -> None:
        # Garbage-collected without close(): the write did not finish, keep nothing.
        if not getattr(self, "_committed", True):
            self.abort()


class LocalFileSystem:
    """The few file-system operations tools like the range inference need."""

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def listdir(self, path: str) -> list[str]:
        """Every file under ``path``, recursively, as luigi's (directories are not listed)."""
        return [os.path.join(folder, name) for folder, _, files in os.walk(path) for name in files]

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        if os.path.exists(path):
            if raise_if_exists:
                raise FileAlreadyExists(f"already exists: {path}")
            if not os.path.isdir(path):
                raise NotADirectory(f"exists and is not a directory: {path}")
            return
        if parents:
            os.makedirs(path, exist_ok=True)
        elif not os.path.isdir(os.path.dirname(path.rstrip("/")) or "."):
            raise MissingParentDirectory(f"no parent directory for {path}")
        else:
            os.mkdir(path)

    def remove(self, path: str, recursive: bool = True) -> None:
        """As luigi's: a directory only with ``recursive``; a missing path raises."""
        if recursive and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)

    def move(self, old: str, new: str, raise_if_exists: bool = False) -> None:
        """Rename ``old`` to ``new``; across file systems, copy beside ``new`` then rename."""
        if raise_if_exists and os.path.exists(new):
            raise FileAlreadyExists(f"destination exists: {new}")
        os.makedirs(os.path.dirname(new) or ".", exist_ok=True)
        try:
            os.replace(old, new)
        except OSError as err:
            if err.errno != errno.EXDEV:
                raise
            _move_across_devices(old, new)

    def copy(self, old: str, new: str, raise_if_exists: bool = False) -> None:
        """Copy a file (or a directory tree); the copy appears whole at ``new``."""
        if raise_if_exists and os.path.exists(new):
            raise FileAlreadyExists(f"destination exists: {new}")
        os.makedirs(os.path.dirname(new) or ".", exist_ok=True)
        tmp = f"{new.rstrip('/')}{_TMP_MARK}{random.randrange(10**9, 10**10)}"
        try:
            if os.path.isdir(old):
                shutil.copytree(old, tmp)
            else:
                shutil.copy2(old, tmp)
            if os.path.isdir(tmp) and os.path.isdir(new):
                shutil.rmtree(new)
            os.replace(tmp, new)
        except BaseException:
            _remove_quietly(tmp)
            raise

    def rename_dont_move(self, old: str, new: str) -> None:
        self.move(old, new, raise_if_exists=True)


def _move_across_devices(old: str, new: str) -> None:
    """os.replace cannot cross devices: copy to a temporary beside ``new``, rename, drop ``old``."""
    _LOCAL_FS.copy(old, new)
    _remove_quietly(old)


_LOCAL_FS = LocalFileSystem()


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
