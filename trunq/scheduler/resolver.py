"""Expanding the dependency graph: completeness checks and requirements, level by level."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from trunq.core.errors import DependencyCycleError
from trunq.core.events import Event
from trunq.core.graph import find_cycle
from trunq.scheduler.core import (
    DONE,
    MISSING_EXT,
    PENDING,
    SCHEDULING_ERROR,
    Node,
    SchedulerCore,
    batch_key_for,
)

logger = logging.getLogger("trunq")

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


def _check(step: Any) -> bool | BaseException:
    try:
        return is_complete(step)
    except Exception as exc:  # reported as a scheduling error of that step
        return exc


class Resolver:
    """Adds steps and everything they require to a SchedulerCore."""

    def __init__(self, core: SchedulerCore, *, threads: int = 0, default_retries: int = 0) -> None:
        self.core = core
        self.default_retries = default_retries
        self._pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    def expand(self, roots: Iterable[Any]) -> list[Node]:
        """Discover every step not yet known; returns the new nodes (already linked)."""
        nodes = self.core.nodes
        frontier = []
        seen: set[str] = set()
        for step in roots:
            if step.step_id not in nodes and step.step_id not in seen:
                seen.add(step.step_id)
                frontier.append(step)
        added: list[Node] = []
        while frontier:
            results = self._check_all(frontier)
            next_frontier = []
            for step, result in zip(frontier, results):
                node, deps = self._make_node(step, result)
                self.core.add(node)
                added.append(node)
                for dep in deps:
                    if dep.step_id not in nodes and dep.step_id not in seen:
                        seen.add(dep.step_id)
                        next_frontier.append(dep)
            frontier = next_frontier
        self._refuse_cycles(added)
        for node in added:
            self.core.link(node)
        return added

    def _check_all(self, steps: list[Any]) -> list[bool | BaseException]:
        if self._pool is None or len(steps) < 2:
            return [_check(step) for step in steps]
        return list(self._pool.map(_check, steps))

    def _make_node(self, step: Any, complete: bool | BaseException) -> tuple[Node, list[Any]]:
        node = Node(step.step_id, step, priority=int(step.priority or 0))
        if isinstance(complete, BaseException):
            return self._broken(node, complete, "complete()"), []
        if complete:
            node.status = DONE
            node.initially_done = True
            step.trigger_event(Event.DEPENDENCY_PRESENT, step)
            return node, []
        if step.run is None:
            node.status = MISSING_EXT
            step.trigger_event(Event.DEPENDENCY_MISSING, step)
            return node, []
        try:
            deps = step.deps()
            resources = step.process_resources()
        except Exception as exc:
            return self._broken(node, exc, "requires()"), []
        node.deps = [dep.step_id for dep in deps]
        node.resources = resources
        node.batch_key = batch_key_for(step, resources)
        node.max_batch_size = step.max_batch_size
        retries = step.retry_count
        node.retries_left = self.default_retries if retries is None else int(retries)
        node.status = PENDING
        for dep in deps:
            step.trigger_event(Event.DEPENDENCY_DISCOVERED, step, dep)
        return node, deps

    @staticmethod
    def _broken(node: Node, exc: BaseException, where: str) -> Node:
        node.status = SCHEDULING_ERROR
        node.expl = f"{where} of {node.step!r} raised {type(exc).__name__}: {exc}"
        logger.error("%s", node.expl)
        node.step.trigger_event(Event.BROKEN_STEP, node.step, exc)
        return node

    def _refuse_cycles(self, added: list[Node]) -> None:
        nodes = self.core.nodes
        pending = dict.fromkeys(node.step_id for node in added if node.status == PENDING)
        cycle = find_cycle(pending, lambda step_id: (d for d in nodes[step_id].deps if d in pending))
        if cycle:
            names = " -> ".join(repr(nodes[step_id].step) for step_id in cycle)
            raise DependencyCycleError(f"dependency cycle: {names}")
