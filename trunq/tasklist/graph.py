"""Deferred function-call graphs: ``defer`` builds them, ``evaluate`` runs them.

A :class:`Task` is a function call that has not happened yet. Indexing it or reading an
attribute gives another deferred value (:class:`TaskItem`, :class:`TaskAttribute`), so
``defer(dostuff, task[1], task.thing)`` describes the whole computation without running it.

Every node carries an ``_id``. ``evaluate`` memoizes results by ``_id``, so a task reached by
several paths of one graph runs once. Pickling keeps shared nodes shared, so this still holds
after a graph went through a ``todo/*.pkl`` file.
"""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

# Attributes that belong to the node itself; reading a missing one must fail, not defer.
_OWN_ATTRIBUTES = frozenset({"_id", "_fun", "_args", "_kwargs", "_parent", "_key"})


def _identity(value: Any) -> Any:
    return value


class _Deferred:
    """Shared behaviour of every node: deferred attribute and item access."""

    _id: Any

    def __getattr__(self, name: str) -> TaskAttribute:
        # Dunders and our own slots must raise, or pickle/copy would think they exist.
        if name.startswith("__") or name in _OWN_ATTRIBUTES:
            raise AttributeError(name)
        return TaskAttribute(self, name)

    def __getitem__(self, key: Any) -> TaskItem:
        return TaskItem(self, key)

    def __iter__(self) -> NoReturn:
        # Without this, __getitem__ would make every node an endless sequence.
        raise TypeError("a deferred value cannot be iterated; index it instead (task[0], task[1], ...)")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)


class Task(_Deferred):
    """A deferred call ``fun(*args, **kwargs)``; arguments may be deferred values themselves."""

    # Set on a task by the runner once it is submitted and finished (or on a placeholder).
    metadata: Any
    uuid: str | None
    returnvalue: Any
    errorvalue: Any
    traceback: str | None
    runtime: float | None

    def __init__(self, fun: Any, args: tuple | list = (), kwargs: dict | None = None) -> None:
        self._fun = fun
        self._args = tuple(args)
        self._kwargs = dict(kwargs or {})
        self._id = uuid.uuid4().hex

    def __repr__(self) -> str:
        name = getattr(self._fun, "__qualname__", None) or repr(self._fun)
        return f"<Task {name} {self._id[:8]}>"


class PartOfTask(_Deferred):
    """A deferred ``parent.name`` or ``parent[key]``."""

    kind = "part"

    def __init__(self, parent: _Deferred, key: Any) -> None:
        self._parent = parent
        self._key = key
        # The kind and the key's type are part of the id: t.x, t['x'] and t[1] vs t['1'] differ.
        key_type = type(key)
        self._id = (parent._id, self.kind, f"{key_type.__module__}.{key_type.__qualname__}", repr(key))

    def resolve(self, parent_value: Any) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._key!r} of {self._parent!r}>"


class TaskAttribute(PartOfTask):
    kind = "attr"

    def resolve(self, parent_value: Any) -> Any:
        return getattr(parent_value, self._key)


class TaskItem(PartOfTask):
    kind = "item"

    def resolve(self, parent_value: Any) -> Any:
        return parent_value[self._key]


def is_deferred(value: Any) -> bool:
    return isinstance(value, _Deferred)


def defer(fun: Any, *args: Any, **kwargs: Any) -> Task:
    """Defer ``fun(*args, **kwargs)``; ``defer(data)`` defers plain data.

    ``fun`` may itself be deferred (``defer(task.method, 1)`` calls the method of the
    task's result once it exists).
    """
    if callable(fun) or is_deferred(fun):
        return Task(fun, args, kwargs)
    if args or kwargs:
        raise TypeError(f"defer({fun!r}, ...): {type(fun).__name__} is not callable, so it takes no arguments")
    return Task(_identity, (fun,), {})


def evaluate(task: Any, known_results: dict | None = None) -> Any:
    """Compute a deferred value; every node of the graph is computed at most once."""
    if not is_deferred(task):
        return task
    known = {} if known_results is None else known_results
    if task._id in known:
        return known[task._id]
    if isinstance(task, PartOfTask):
        value = task.resolve(evaluate(task._parent, known))
    else:
        fun = evaluate(task._fun, known)
        args = [evaluate(arg, known) for arg in task._args]
        kwargs = {name: evaluate(arg, known) for name, arg in task._kwargs.items()}
        value = fun(*args, **kwargs)
    known[task._id] = value
    return value
