"""Public path of trunq's error hierarchy (see ``trunq.core.errors``)."""

from trunq.core.errors import (
    AlreadyRunningError,
    AmbiguousStepError,
    ConfigError,
    DependencyCycleError,
    HistorySchemaError,
    MessageError,
    NoWorkerAlive,
    PayloadError,
    StoreUnavailable,
    TrunqError,
    UnknownStepError,
    UnsatisfiableResourcesError,
    UsageError,
)

__all__ = [
    "TrunqError", "UsageError", "UnknownStepError", "AmbiguousStepError", "ConfigError",
    "DependencyCycleError", "UnsatisfiableResourcesError", "AlreadyRunningError", "StoreUnavailable",
    "NoWorkerAlive", "PayloadError", "MessageError", "HistorySchemaError",
]
