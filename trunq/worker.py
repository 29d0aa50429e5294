"""Public path of the build loop, as luigi's ``luigi.worker.Worker``."""

from trunq.execution.loop import Worker

__all__ = ["Worker"]
