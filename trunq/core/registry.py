"""Step families, step ids, the instance cache and command-line parameter overrides.

Every Step subclass registers itself by family when it is defined. Constructing a step
with equal arguments returns the same object (the instance cache), so a dependency graph
built from many ``requires()`` calls shares one object per step.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from trunq.core.errors import AmbiguousStepError, UnknownStepError

if TYPE_CHECKING:
    from trunq.core.step import Step

_INCLUDE_PARAMS = 3  # how many params appear in readable form in a step id
_TRUNCATE_PARAM = 16
_TRUNCATE_HASH = 10
_INVALID_ID_CHARS = re.compile(r"[^A-Za-z0-9_]")


# family -> the classes defined under it, at most one per source file: redefining a class
# in the same file (a reload, a test's local class) replaces it; two files are ambiguous.
_families: dict[str, list[type[Step]]] = {}
_origins: dict[type[Step], tuple[str, int]] = {}  # class -> (file, line) of its definition
_classes: list[type[Step]] = []
_instances: dict[tuple[Any, ...], Step] = {}
_namespaces: dict[str, str] = {}

class ParamSource(Protocol):
    """Where parameter defaults come from (``[Family] name = value``): the configuration."""

    def get(self, section: str, key: str, default: Any = None) -> Any: ...

    def section(self, section: str) -> dict[str, Any]: ...


class _NoSettings:
    def get(self, section: str, key: str, default: Any = None) -> Any:
        return default

    def section(self, section: str) -> dict[str, Any]:
        return {}


# Installed by the edge (``trunq.config`` installs its loader when it is imported): the core
# reads settings through this and never loads files itself.
_param_source: ParamSource | None = None
_param_source_loader: Callable[[], ParamSource] | None = None


def set_param_source(source: ParamSource | None, loader: Callable[[], ParamSource] | None = None) -> None:
    """Use ``source`` for parameter defaults (None: ask ``loader`` on next use); clears the cache."""
    global _param_source, _param_source_loader
    _param_source = source
    if loader is not None:
        _param_source_loader = loader
    clear_instance_cache()


def param_source() -> ParamSource:
    global _param_source
    if _param_source is None:
        _param_source = _param_source_loader() if _param_source_loader is not None else _NoSettings()
    return _param_source


# Parameter values from the command line: family -> {param name: text}. The root step's
# ``--param`` lands in its own family; ``--Family-param`` in any family.
cli_overrides: dict[str, dict[str, str]] = {}


def register(cls: type[Step]) -> None:
    """Called for each Step subclass; a family's lookup decides between its definitions."""
    origin = _origin(cls)
    _origins[cls] = origin
    family = cls.get_step_family()
    kept = [other for other in _families.get(family, []) if _origins[other][0] != origin[0]]
    _families[family] = [*kept, cls]
    cls._class_index = len(_classes)
    _classes.append(cls)


def _origin(cls: type[Step]) -> tuple[str, int]:
    """(file, line) of the class statement; the module name when it has no file."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    where = os.path.realpath(path) if path else cls.__module__
    frame: FrameType | None = sys._getframe(1)
    for _ in range(8):  # the class body's caller: register <- __init_subclass__ <- class statement
        if frame is None:
            break
        if frame.f_globals.get("__name__") == cls.__module__:
            return where, frame.f_lineno
        frame = frame.f_back
    return where, 0


def get_step_cls(family: str) -> type[Step]:
    """The class of ``family``: the most derived when definitions subclass each other."""
    candidates = _families.get(family)
    if not candidates:
        raise UnknownStepError(f"unknown step family {family!r}{_suggestion(family)}")
    best = candidates[0]
    for cls in candidates[1:]:
        if issubclass(cls, best):
            best = cls
        elif not issubclass(best, cls):
            raise AmbiguousStepError(
                f"step family {family!r} is ambiguous: defined by {_describe(best)} and by {_describe(cls)}")
    return best


def _describe(cls: type[Step]) -> str:
    path, line = _origins.get(cls, ("?", 0))
    return f"{cls.__module__}:{cls.__qualname__} ({path}:{line})"


def _suggestion(family: str) -> str:
    import difflib

    close = difflib.get_close_matches(family, list(_families), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def families() -> list[str]:
    return sorted(_families)


def class_key(cls: type[Step]) -> str:
    """A key that finds this exact class again in a forked process."""
    return f"{cls.__module__}:{cls.__qualname__}:{cls._class_index}"


def class_from_key(key: str) -> type[Step]:
    module, qualname, index = key.rsplit(":", 2)
    position = int(index)
    if position < len(_classes):
        cls = _classes[position]
        if cls.__module__ == module and cls.__qualname__ == qualname:
            return cls
    import importlib

    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def clear_instance_cache() -> None:
    _instances.clear()


def cached_instance(key: tuple[Any, ...]) -> Step | None:
    return _instances.get(key)


def remember_instance(key: tuple[Any, ...], instance: Step) -> None:
    _instances[key] = instance


def set_namespace(namespace: str | None, scope: str = "") -> None:
    """Steps defined in modules under ``scope`` get families ``namespace.ClassName``."""
    if namespace:
        _namespaces[scope] = namespace
    else:
        _namespaces.pop(scope, None)


def namespace_for(module: str) -> str | None:
    best: tuple[int, str | None] = (-1, None)
    for scope, namespace in _namespaces.items():
        if (not scope or module == scope or module.startswith(scope + ".")) and len(scope) > best[0]:
            best = (len(scope), namespace)
    return best[1]


def step_id_str(family: str, str_params: dict[str, str]) -> str:
    """``Family_<first params>_<hash>``: deterministic, readable, safe in file names."""
    canonical = json.dumps(str_params, separators=(",", ":"), sort_keys=True)
    digest = hashlib.md5(canonical.encode("utf-8")).hexdigest()[:_TRUNCATE_HASH]
    summary = "_".join(str_params[name][:_TRUNCATE_PARAM] for name in sorted(str_params)[:_INCLUDE_PARAMS])
    return f"{family}_{_INVALID_ID_CHARS.sub('_', summary)}_{digest}"
