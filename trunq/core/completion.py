"""Completeness checks with a per-build cache of positive answers (pure: calls only ``complete()``)."""

from __future__ import annotations

from typing import Any

# Positive completeness results of the current build: a complete step stays complete,
# and WrapperStep.complete() would otherwise check every requirement twice. Keyed by object
# identity (steps are instance-cached) so a lookup needs no step id; the value keeps the
# step alive so its id() cannot be reused.
_complete_cache: dict[int, Any] = {}


def is_complete(step: Any) -> bool:
    if id(step) in _complete_cache:
        return True
    result = step.complete()
    if not isinstance(result, bool):
        raise TypeError(f"{step!r}.complete() returned {type(result).__name__}, not a bool")
    if result:
        _complete_cache[id(step)] = step
    return result


def clear_completion_cache() -> None:
    _complete_cache.clear()
