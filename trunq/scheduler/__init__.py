"""Scheduling policy over shared state: no I/O except through the state store protocols.

``core`` is the pure in-degree/priority scheduler of one build, ``resolver`` expands the graph
into it, ``retry`` decides retries, ``state`` declares the store protocols that ``memory`` and
``redis`` implement (keys and Lua scripts beside them).
"""

from trunq.scheduler.schedulers import RemoteScheduler, Scheduler

__all__ = ["Scheduler", "RemoteScheduler"]
