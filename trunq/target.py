"""Public path of the targets (as ``luigi.target``); they live in ``trunq.core.target``."""

from trunq.core.target import (
    AtomicLocalFile,
    FileAlreadyExists,
    FileSystemException,
    FileSystemTarget,
    LocalFileSystem,
    LocalTarget,
    MissingParentDirectory,
    NotADirectory,
    Target,
)

__all__ = ["Target", "FileSystemTarget", "LocalTarget", "LocalFileSystem", "AtomicLocalFile",
           "FileSystemException", "FileAlreadyExists", "MissingParentDirectory", "NotADirectory"]
