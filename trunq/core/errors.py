"""The one error hierarchy of trunq.

Every error caused by the user's input or environment is a ``TrunqError``: the command line
prints its message on one line and exits with its ``exit_code``; the web API answers JSON
with its ``http_status``. Anything else is a bug and keeps its traceback.

Defined in ``core`` (standard library only) so that every room can raise them; the public
path is ``trunq.errors``.
"""

from __future__ import annotations


class TrunqError(Exception):
    """Base of the errors a user can cause and fix."""

    exit_code = 2
    http_status = 400


class UsageError(TrunqError):
    """Arguments that do not make a valid command."""


class UnknownStepError(UsageError, LookupError):
    """No step class is registered under that family."""

    http_status = 404


class AmbiguousStepError(UsageError):
    """Two step classes claim the same family."""


class ConfigError(TrunqError):
    """A configuration file or value that cannot be read or parsed."""


class DependencyCycleError(TrunqError):
    """``requires()`` chains lead back to a step."""


class UnsatisfiableResourcesError(TrunqError):
    """A step asks for more of a resource than its capacity: it could never run."""


class AlreadyRunningError(TrunqError):
    """The same build holds its lock in another live process."""

    exit_code = 6
    http_status = 409


class StoreUnavailable(TrunqError):
    """The shared state store (Redis) cannot be reached or refused us."""

    http_status = 503


class NoWorkerAlive(StoreUnavailable):
    """No Celery worker sends heartbeats to this Redis."""


class PayloadError(TrunqError):
    """A step message a worker cannot turn back into a step."""


class MessageError(TrunqError):
    """A message to a running step that cannot be delivered or answered."""


class HistorySchemaError(TrunqError):
    """The history database exists but is not one trunq can read."""

    http_status = 500
