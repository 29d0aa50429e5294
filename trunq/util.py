"""Decorators and helpers for building steps out of other steps (luigi's ``luigi.util``).

``@inherits(Other)`` copies Other's parameters onto the decorated class (keeping the ones
it already has) and gives it ``clone_parent()`` / ``clone_parents()``; ``@requires(Other)``
also defines ``requires()`` to return those clones. ``@copies``, ``@delegates``,
``common_params``, ``previous`` and ``get_previous_completed`` behave as in luigi.

The decorators change the class in place (no subclass), so a decorated step keeps its one
family in the registry.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from trunq.core.step import Step, flatten, refresh_params
from trunq.parameter import (
    DateHourParameter,
    DateIntervalParameter,
    DateMinuteParameter,
    DateParameter,
    DateSecondParameter,
)

__all__ = [
    "inherits", "requires", "copies", "delegates", "common_params", "previous", "get_previous_completed",
]

logger = logging.getLogger("trunq")

S = TypeVar("S", bound=type)


def _check_step_classes(steps: Any) -> None:
    for step in steps:
        if not (isinstance(step, type) and issubclass(step, Step)):
            raise TypeError(f"{step!r} is not a Step class")


class inherits:  # noqa: N801 - luigi's spelling, used as a decorator
    """``@inherits(A, B)`` or ``@inherits(a=A, b=B)``: copy the steps' parameters onto the class.

    Positional form: adds ``clone_parent()`` (a clone of the first step class) and
    ``clone_parents()`` (a list, one per class). Keyword form: ``clone_parents()`` returns a
    dict by keyword. Both forward their keyword arguments to ``clone()``.
    """

    def __init__(self, *steps: type[Step], **kw_steps: type[Step]) -> None:
        if not steps and not kw_steps:
            raise TypeError("inherits needs at least one step class")
        if steps and kw_steps:
            raise TypeError("inherits takes step classes either by position or by keyword, not both")
        _check_step_classes(steps or kw_steps.values())
        self.steps = steps
        self.kw_steps = kw_steps

    def __call__(self, cls: S) -> S:
        added = False
        for parent in self.steps or self.kw_steps.values():
            for name, param in parent.get_params():
                if not hasattr(cls, name):  # the class's own attribute (parameter or not) wins
                    setattr(cls, name, param)
                    added = True
        if added:
            refresh_params(cls)  # recompute the class's cached parameter tuples
        if self.steps:
            steps = self.steps

            def clone_parent(self: Any, **kwargs: Any) -> Any:
                return self.clone(cls=steps[0], **kwargs)

            def clone_parents(self: Any, **kwargs: Any) -> Any:
                return [self.clone(cls=step, **kwargs) for step in steps]

            cls.clone_parent = clone_parent  # type: ignore[attr-defined]
        else:
            kw_steps = self.kw_steps

            def clone_parents(self: Any, **kwargs: Any) -> Any:
                return {key: self.clone(cls=step, **kwargs) for key, step in kw_steps.items()}

        cls.clone_parents = clone_parents  # type: ignore[attr-defined]
        return cls


class requires:  # noqa: N801 - luigi's spelling, used as a decorator
    """``@requires(A)``: ``@inherits(A)`` plus ``requires()`` returning the clone(s).

    One positional class: ``requires()`` is ``clone_parent()``; several (or keywords): it is
    ``clone_parents()`` (a list, or a dict by keyword). Replaces a ``requires()`` the class defines.
    """

    def __init__(self, *steps: type[Step], **kw_steps: type[Step]) -> None:
        self.inherit = inherits(*steps, **kw_steps)

    def __call__(self, cls: S) -> S:
        cls = self.inherit(cls)
        single = len(self.inherit.steps) == 1

        def requires(self: Any) -> Any:
            return self.clone_parent() if single else self.clone_parents()

        cls.requires = requires  # type: ignore[attr-defined]
        return cls


class copies:  # noqa: N801 - luigi's spelling, used as a decorator
    """``@copies(A)``: require A (as ``@requires``) and make ``run()`` copy A's output, line by
    line, into this step's ``output()``. Both must be single targets."""

    def __init__(self, step: type) -> None:
        self.require = requires(step)

    def __call__(self, cls: S) -> S:
        cls = self.require(cls)

        def run(self: Any) -> None:
            source, destination = self.input(), self.output()
            with source.open("r") as reader, destination.open("w") as writer:
                for line in reader:
                    writer.write(line)

        cls.run = run  # type: ignore[attr-defined]
        return cls


def _substeps_method(cls: type) -> Callable[[Any], Any]:
    for name in ("substeps", "subtasks"):
        method = getattr(cls, name, None)
        if method is not None:
            return method
    raise AttributeError(f'{cls} needs to implement the method "substeps" (or luigi\'s "subtasks")')


def delegates(cls: S) -> S:
    """``@delegates``: run the steps returned by ``substeps()`` (luigi: ``subtasks()``) inside
    this step's ``run()``, before its own code. The scheduler never sees them; their
    requirements become this step's."""
    substeps = _substeps_method(cls)
    own_run = cls.run  # type: ignore[attr-defined]
    own_deps = cls.deps  # type: ignore[attr-defined]

    def deps(self: Any) -> list[Any]:
        inner = [dep for sub in flatten(substeps(self)) for dep in sub.deps()]
        return own_deps(self) + inner

    def run(self: Any) -> Any:
        for sub in flatten(substeps(self)):
            sub.run()
        return own_run(self)

    cls.deps = deps  # type: ignore[attr-defined]
    cls.run = run  # type: ignore[attr-defined]
    return cls


def common_params(step_instance: Any, step_cls: type) -> dict[str, Any]:
    """The values of ``step_instance``'s parameters that ``step_cls`` also declares."""
    if not (isinstance(step_cls, type) and issubclass(step_cls, Step)):
        raise TypeError("step_cls must be a Step class, not an instance")
    wanted = dict(step_cls.get_params())
    values = step_instance.param_kwargs
    return {name: wanted[name].normalize(value) for name, value in values.items() if name in wanted}


_STEP_BACK: tuple[tuple[type, datetime.timedelta], ...] = (
    # Month and Year parameters are DateParameters: one day back, then clamped to their unit.
    (DateParameter, datetime.timedelta(days=1)),
    (DateSecondParameter, datetime.timedelta(seconds=1)),
    (DateMinuteParameter, datetime.timedelta(minutes=1)),
    (DateHourParameter, datetime.timedelta(hours=1)),
)


def _earlier(param: Any, value: Any) -> Any:
    """The value one unit before ``value``, or NotImplemented when ``param`` is not date-like."""
    if isinstance(param, DateIntervalParameter):
        return value.prev()
    for kind, delta in _STEP_BACK:
        if isinstance(param, kind):
            return value - delta
    return NotImplemented


def previous(step: Any) -> Any:
    """The step of the same class whose one date-like parameter is one unit earlier (a day,
    hour, minute, second, or the previous interval); other parameters are kept."""
    changed = {}
    for name, param in step.get_params():
        earlier = _earlier(param, getattr(step, name))
        if earlier is not NotImplemented:
            changed[name] = earlier
    if not changed:
        raise NotImplementedError("No step parameter is a date: cannot determine the previous step")
    if len(changed) > 1:
        raise NotImplementedError("Too many date-related step parameters: cannot determine the previous step")
    return step.clone(**changed)


def get_previous_completed(step: Any, max_steps: int = 10) -> Any:
    """The nearest earlier step (see ``previous``) that is complete, looking back at most
    ``max_steps``; None if there is none."""
    earlier = step
    for _ in range(max_steps):
        earlier = previous(earlier)
        logger.debug("Checking if %s is complete", earlier)
        if earlier.complete():
            return earlier
    return None
