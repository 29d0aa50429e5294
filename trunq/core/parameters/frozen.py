"""Immutable, hashable versions of JSON-like values (dicts become FrozenOrderedDict, lists tuples)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

_SCALARS = (str, int, float, bool, type(None))


class FrozenOrderedDict(Mapping[Any, Any]):
    """A read-only, insertion-ordered, hashable mapping.

    Equality follows ``dict`` (order-insensitive, equal to a plain dict with the same items), so
    the hash is order-insensitive too.
    """

    __slots__ = ("_items", "_hash")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._items: dict[Any, Any] = dict(*args, **kwargs)
        self._hash: int | None = None

    def __getitem__(self, key: Any) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._items.items()))
        return self._hash

    def __repr__(self) -> str:
        # as luigi: shown (and put in output paths built from it) as the plain dict it holds
        return repr(self._items)

    def get_wrapped(self) -> dict[Any, Any]:
        """A shallow plain-dict copy (nested values stay frozen)."""
        return dict(self._items)


def recursively_freeze(value: Any) -> Any:
    """Return a hashable copy: mappings -> FrozenOrderedDict, lists/tuples -> tuple, sets -> frozenset."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, FrozenOrderedDict):
        if all(isinstance(item, _SCALARS) for item in value.values()):
            return value
        return FrozenOrderedDict((key, recursively_freeze(item)) for key, item in value.items())
    if isinstance(value, Mapping):
        return FrozenOrderedDict((key, recursively_freeze(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(recursively_freeze(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(recursively_freeze(item) for item in value)
    return value


def recursively_unfreeze(value: Any) -> Any:
    """The inverse of ``recursively_freeze``: plain dicts and lists (e.g. for jsonschema)."""
    if isinstance(value, Mapping):
        return {key: recursively_unfreeze(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [recursively_unfreeze(item) for item in value]
    return value


class FrozenJSONEncoder(json.JSONEncoder):
    """JSON encoder that also writes FrozenOrderedDict (as an object) and frozensets (as arrays)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Mapping):
            return dict(o)
        if isinstance(o, set | frozenset):
            try:
                return sorted(o)
            except TypeError:
                return list(o)
        return super().default(o)
