"""Public path of the targets (as ``luigi.target``); they live in ``trunq.core.target``."""

from trunq.core.target import FileSystemTarget, LocalTarget, Target

__all__ = ["Target", "FileSystemTarget", "LocalTarget"]
