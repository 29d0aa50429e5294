"""Pure helpers over nested structures of steps and over dependency graphs."""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar


def flatten(struct: Any) -> list[Any]:
    """All leaves of nested lists, tuples, sets, dicts (values) and generators, in order."""
    if struct is None:
        return []
    if isinstance(struct, (list, tuple, set, frozenset)):
        out: list[Any] = []
        for item in struct:
            if isinstance(item, (list, tuple, set, frozenset, dict)) or _is_iterator(item):
                out.extend(flatten(item))
            elif item is not None:
                out.append(item)
        return out
    if isinstance(struct, dict):
        return flatten(list(struct.values()))
    if _is_iterator(struct):
        return flatten(list(struct))
    return [struct]


OUTPUT_PATHS = "_output_paths"  # the memo's attribute on a step object
OUTPUT_TARGETS = "_output_targets"  # the flattened output() a completeness check left there


def output_paths(step: Any) -> list[str]:
    """The paths of ``step.output()``'s targets, computed once per step object.

    A step's outputs follow from its parameters; its Run records them, and so does the Run
    of every step requiring it. The targets come from the step's completeness check when it
    kept them (``Step.complete``), else from ``output()``.
    """
    paths = getattr(step, OUTPUT_PATHS, None)
    if paths is None:
        targets = getattr(step, OUTPUT_TARGETS, None)
        paths = target_paths(flatten(step.output()) if targets is None else targets)
        try:
            setattr(step, OUTPUT_PATHS, paths)
            if targets is not None:
                setattr(step, OUTPUT_TARGETS, None)  # the paths are all that is needed from now on
        except AttributeError:  # an object with __slots__: no memo
            pass
    return paths


def target_paths(targets: list[Any]) -> list[str]:
    """The paths of the targets that have one, in order, each once."""
    if len(targets) == 1:  # the common case, without a comprehension's frame
        path = getattr(targets[0], "path", None)
        return [] if path is None else [path if type(path) is str else str(path)]
    return list(dict.fromkeys(str(target.path) for target in targets if getattr(target, "path", None) is not None))


def _is_iterator(value: Any) -> bool:
    return hasattr(value, "__next__")


def getpaths(struct: Any) -> Any:
    """Replace every step in a nested structure by its output(), keeping the structure.

    Mappings keep their type (an OrderedDict stays one, a defaultdict keeps its factory),
    lists and tuples (named ones too) keep theirs; other iterables become lists.
    """
    if hasattr(struct, "output") and callable(struct.output):
        return struct.output()
    if isinstance(struct, dict):
        out = copy.copy(struct)
        for key, value in struct.items():
            out[key] = getpaths(value)
        return out
    if isinstance(struct, list):
        return [getpaths(item) for item in struct] if type(struct) is list else \
            type(struct)(getpaths(item) for item in struct)
    if isinstance(struct, tuple):
        items = [getpaths(item) for item in struct]
        if type(struct) is tuple:
            return tuple(items)
        return struct._make(items) if hasattr(struct, "_make") else type(struct)(items)
    if _is_iterator(struct):
        return [getpaths(item) for item in struct]
    return struct


def flatten_output(step: Any) -> list[Any]:
    """All output targets of ``step``; a step without outputs (a wrapper) stands for its
    requirements' outputs, looked up recursively, each step once, breadth first."""
    seen: dict[Any, None] = {}  # an ordered set of the steps that have outputs
    queue = deque([step])
    while queue:
        current = queue.popleft()
        if flatten(current.output()):
            seen.setdefault(current, None)
        else:
            queue.extend(flatten(current.requires()))
    return flatten([found.output() for found in seen])


N = TypeVar("N", bound=Hashable)  # a graph node


def find_cycle(nodes: Iterable[N], edges: Callable[[N], Iterable[N]]) -> list[N] | None:
    """A list of nodes forming a cycle (first node repeated at the end), or None. O(V + E)."""
    white, gray, black = 0, 1, 2
    color: dict[N, int] = {}
    for start in nodes:
        if color.get(start, white) != white:
            continue
        stack: list[tuple[N, Any]] = [(start, iter(edges(start)))]
        path = [start]
        color[start] = gray
        while stack:
            node, children = stack[-1]
            advanced = False
            for child in children:
                state = color.get(child, white)
                if state == gray:
                    return path[path.index(child):] + [child]
                if state == white:
                    color[child] = gray
                    stack.append((child, iter(edges(child))))
                    path.append(child)
                    advanced = True
                    break
            if not advanced:
                color[node] = black
                stack.pop()
                path.pop()
    return None
