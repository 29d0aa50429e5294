"""Error values that trunq itself puts into ``task.errorvalue``.

They are plain ``Exception`` subclasses with a single message argument, so they pickle and
unpickle anywhere (a custom exception with extra ``__init__`` arguments would not).
"""

from __future__ import annotations


class TaskListError(Exception):
    """Base class of the errors trunq records for a task."""


class AutoKilled(TaskListError):
    """The task ran longer than ``autokill`` seconds; its whole process group was SIGKILLed."""


class WorkerDied(TaskListError):
    """The task's process ended without writing a result (segfault, OOM kill, ``os._exit``)."""


class TaskFileCorrupt(TaskListError):
    """The ``todo/*.pkl`` file could not be loaded (truncated, or written by something else)."""


class ResultNotPicklable(TaskListError):
    """The task finished, but its return value or error could not be written with dill."""


class ResultNotLoadable(TaskListError):
    """The result file exists but could not be loaded in the process that called ``run()``."""


class TaskError(TaskListError):
    """Stands in for an exception that cannot be pickled; carries its type and message."""
