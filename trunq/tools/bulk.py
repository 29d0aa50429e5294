"""Bulk completeness for the range tools: ask the step, or list the output directories.

A range over three years of a daily step would otherwise call ``exists()`` on a thousand
paths. Here each candidate's output paths are computed (no I/O), grouped by directory,
and every directory is listed once; a candidate is complete when all its paths appear.
Targets list their directory themselves (``bulk_lister``: ``LocalTarget``, and
``trunq.RemoteTarget``, one LIST request per directory on S3 instead of one HEAD per date).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from trunq.core.graph import flatten
from trunq.core.step import Step
from trunq.core.target import FileSystemTarget

logger = logging.getLogger("trunq")


def implements_bulk_complete(step_cls: type) -> bool:
    """True when ``step_cls`` overrides ``Step.bulk_complete``."""
    method = getattr(step_cls, "bulk_complete", None)
    return getattr(method, "__func__", None) is not vars(Step)["bulk_complete"].__func__


def complete_values_from_step(step_cls: type, of_params: dict[str, Any], values: Sequence[Any]) -> set[Any]:
    """The parameter values ``step_cls.bulk_complete`` reports as complete.

    With ``of_params`` the method receives a partial of the class carrying them (so that
    ``cls(value)`` builds the right step), like a classmethod called on a pre-bound class.
    """
    bound: Any = functools.partial(step_cls, **of_params) if of_params else step_cls
    answer = step_cls.bulk_complete.__func__(bound, list(values))  # type: ignore[attr-defined]
    return set(flatten(answer))


def incomplete_by_listing(candidates: Sequence[tuple[Any, Step]]) -> list[Any] | None:
    """Keys of the candidates whose file-system outputs are not all present.

    ``candidates`` pairs a key (a datetime, say) with its step. Returns None when some
    step has no output or a non-file-system output: the caller must then check each step.
    """
    wanted: list[tuple[Any, list[str]]] = []
    list_dir: dict[str, Callable[[str], list[str]]] = {}
    for key, step in candidates:
        paths = _output_paths(step, list_dir)
        if paths is None:
            return None
        wanted.append((key, paths))
    present: dict[str, set[str]] = {}
    for directory, lister in list_dir.items():
        present[directory] = _names_in(directory, lister)
    return [key for key, paths in wanted if not all(_present(path, present) for path in paths)]


def _output_paths(step: Step, list_dir: dict[str, Callable[[str], list[str]]]) -> list[str] | None:
    outputs = flatten(step.output())
    if not outputs:
        return None
    paths = []
    for target in outputs:
        fs = getattr(target, "fs", None) if isinstance(target, FileSystemTarget) else None
        if fs is None or not hasattr(fs, "listdir"):
            return None
        path = target.path.rstrip("/") or "/"
        # A target may list its directory itself (LocalTarget, RemoteTarget: names, one level).
        list_dir.setdefault(os.path.dirname(path), getattr(target, "bulk_lister", None) or fs.listdir)
        paths.append(path)
    return paths


def _names_in(directory: str, lister: Callable[[str], list[str]]) -> set[str]:
    try:
        return {os.path.basename(entry.rstrip("/")) for entry in lister(directory or ".")}
    except (FileNotFoundError, NotADirectoryError):
        return set()


def _present(path: str, present: dict[str, set[str]]) -> bool:
    return os.path.basename(path) in present[os.path.dirname(path)]


def incomplete_one_by_one(candidates: Iterable[tuple[Any, Step]]) -> list[Any]:
    """The slow path: one ``complete()`` per candidate."""
    return [key for key, step in candidates if not step.complete()]
