"""MixinNaiveBulkComplete: a ``bulk_complete`` that checks each candidate in turn."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["MixinNaiveBulkComplete"]


class MixinNaiveBulkComplete:
    """Mix into a Step whose ``complete()`` is cheap so that range tools can use it.

    ``bulk_complete(values)`` builds the step for each value (a tuple or list of positional
    parameters, a dict of keyword parameters, or a single positional value) and returns the
    values whose step is complete, in order.
    """

    @classmethod
    def bulk_complete(cls: Any, parameter_tuples: Iterable[Any]) -> list[Any]:  # cls: the Step class
        complete = []
        for values in parameter_tuples:
            if isinstance(values, (list, tuple)):
                step = cls(*values)
            elif isinstance(values, dict):
                step = cls(**values)
            else:
                step = cls(values)
            if step.complete():
                complete.append(values)
        return complete
