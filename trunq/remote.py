"""RemoteTarget: a target at any fsspec URL (``s3://``, ``gs://``, ``memory://``, ``file://``...).

Writes never show a half-written output:

* ``open("w")`` spools to a local temporary file (beside the destination for local paths);
  on a successful close the file is uploaded (renamed into place). On an exception (or
  when the stream is dropped unclosed) nothing is uploaded.
* On stores with a real rename (local files, ``memory://``) the upload goes to a temporary
  path beside the destination, then is renamed into place. On object stores (S3, GCS,
  Azure) it goes straight to the destination key: an object becomes visible only when
  its upload completes, which is the atomic step those stores offer (a "rename" there
  would be a copy plus a delete).
* ``temporary_path()`` gives a path for a program to write (beside the destination on
  the local file system, else a local temporary file or directory uploaded on success).

This is the only module that imports fsspec; ``pip install 'trunq[remote]'`` brings it.
"""

from __future__ import annotations

import io
import os
import posixpath
import random
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

try:
    import fsspec
except ImportError:  # pragma: no cover - exercised in a subprocess without fsspec
    raise ImportError("RemoteTarget needs fsspec: pip install 'trunq[remote]'") from None

from trunq.core import format as formats
from trunq.target import AtomicLocalFile, FileSystemTarget

__all__ = ["RemoteTarget"]

_TMP_MARK = "-trunq-tmp-"
_RENAMING_PROTOCOLS = {"file", "local", "memory"}


class RemoteTarget(FileSystemTarget):
    """A file (or directory) at an fsspec URL; extra keyword arguments configure the store.

    ``RemoteTarget("s3://bucket/key", client_kwargs={"endpoint_url": url})``;
    ``format=trunq.format.Gzip`` as for ``LocalTarget``.
    """

    def __init__(self, path: str | os.PathLike[str], format: formats.Format | None = None,
                 **storage_options: Any) -> None:
        super().__init__(os.fspath(path))
        self.storage_options = storage_options
        self._format_given = format is not None
        self.format = format if format is not None else formats.get_default_format()
        self._fs, self._fs_path = fsspec.core.url_to_fs(self.path, **storage_options)

    @property
    def fs(self) -> Any:
        """The fsspec file system holding this target."""
        return self._fs

    @property
    def fs_path(self) -> str:
        """The path inside ``fs`` (the URL without its protocol)."""
        return self._fs_path

    def exists(self) -> bool:
        self._fs.invalidate_cache(self._fs_path)  # another process may have written it
        return bool(self._fs.exists(self._fs_path))

    def remove(self) -> None:
        if self.exists():
            self._fs.rm(self._fs_path, recursive=True)

    def open(self, mode: str = "r") -> Any:
        rw = mode.replace("b", "").replace("t", "")
        fmt = self.format if self._format_given or "b" not in mode else formats.Nop
        if rw == "w":
            if self._is_local():  # a temporary beside the destination, renamed on close
                return fmt.pipe_writer(AtomicLocalFile(self._fs_path))
            return fmt.pipe_writer(_UploadOnClose(self))
        if rw == "r":
            stream = self._fs.open(self._fs_path, "rb")
            _note_artifact(self.path, "upstream")
            return fmt.pipe_reader(stream)
        raise ValueError(f"unsupported mode {mode!r} (use 'r', 'w', 'rb' or 'wb')")

    @contextmanager
    def temporary_path(self) -> Iterator[str]:
        """A local path to write (a file, or a directory); uploaded when the block succeeds."""
        if self._is_local():
            with FileSystemTarget(self._fs_path).temporary_path() as tmp:
                yield tmp
            return
        workdir = tempfile.mkdtemp(prefix="trunq-remote-")
        try:
            yield os.path.join(workdir, posixpath.basename(self._fs_path.rstrip("/")) or "out")
            entries = os.listdir(workdir)
            if entries:
                self.upload(os.path.join(workdir, entries[0]))
                _note_artifact(self.path, "downstream")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def upload(self, local_path: str) -> None:
        """Put a local file or directory at this target, atomically where the store allows."""
        recursive = os.path.isdir(local_path)
        if self.protocol() not in _RENAMING_PROTOCOLS:
            self._fs.put(local_path, self._fs_path, recursive=recursive)
            self._fs.invalidate_cache(self._fs_path)
            return
        self._fs.makedirs(posixpath.dirname(self._fs_path) or "/", exist_ok=True)
        tmp = f"{self._fs_path.rstrip('/')}{_TMP_MARK}{random.randrange(10**9, 10**10)}"
        try:
            self._fs.put(local_path, tmp, recursive=recursive)
            self._fs.mv(tmp, self._fs_path.rstrip("/"), recursive=recursive)
        except BaseException:
            if self._fs.exists(tmp):
                self._fs.rm(tmp, recursive=True)
            raise

    def protocol(self) -> str:
        """The store's protocol name (``"s3"``, ``"memory"``, ``"file"``...)."""
        protocol = self._fs.protocol
        return protocol if isinstance(protocol, str) else protocol[0]

    def bulk_lister(self, directory: str) -> list[str]:
        """The entries of ``directory`` (a URL), fresh: range tools (``trunq.tools.bulk``)
        list each output directory once instead of calling ``exists()`` per date."""
        _, path = fsspec.core.url_to_fs(directory, **self.storage_options)
        return sorted(_names_in(self._fs, path))

    @classmethod
    def exists_many(cls, urls: Iterable[str], **storage_options: Any) -> dict[str, bool]:
        """Which of ``urls`` exist, with one listing per parent directory instead of one
        request per URL (what range tools need over hundreds of dated outputs)."""
        located = []
        listings: dict[tuple[int, str], set[str]] = {}
        for url in urls:
            fs, path = fsspec.core.url_to_fs(url, **storage_options)
            path = path.rstrip("/")
            parent = posixpath.dirname(path)
            key = (id(fs), parent)
            if key not in listings:
                listings[key] = _names_in(fs, parent)
            located.append((url, key, path))
        return {url: path in listings[key] for url, key, path in located}

    def _is_local(self) -> bool:
        return self.protocol() in ("file", "local")


def _names_in(fs: Any, parent: str) -> set[str]:
    """Full paths of the entries of ``parent`` (fresh, not from the listing cache)."""
    fs.invalidate_cache(parent)
    try:
        entries = fs.ls(parent, detail=False)
    except (FileNotFoundError, NotADirectoryError):
        return set()
    return {posixpath.join(parent, posixpath.basename(entry.rstrip("/"))) for entry in entries}


class _UploadOnClose(io.BufferedWriter):
    """Bytes spooled to a local temporary file, uploaded to the target on a successful close."""

    def __init__(self, target: RemoteTarget) -> None:
        handle, self.tmp_path = tempfile.mkstemp(prefix="trunq-upload-")
        super().__init__(io.FileIO(handle, "w"))
        self._target = target
        self._done = False

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        if not self._done:
            self._done = True
            try:
                self._target.upload(self.tmp_path)
            finally:
                _unlink(self.tmp_path)
            _note_artifact(self._target.path, "downstream")

    def abort(self) -> None:
        self._done = True
        if not self.closed:
            super().close()
        _unlink(self.tmp_path)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        if not getattr(self, "_done", True):
            self.abort()


def _note_artifact(url: str, direction: str) -> None:
    """Tell an active Run (if any) that this URL was read or written."""
    try:
        from trunq.runs import note_artifact
    except ImportError:
        return
    note_artifact(url, direction)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
