"""Public path of the cluster scheduler, as luigi's ``luigi.rpc.RemoteScheduler``."""

from trunq.scheduler.schedulers import RemoteScheduler

__all__ = ["RemoteScheduler"]
