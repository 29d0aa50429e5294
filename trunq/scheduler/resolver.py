"""Expanding the dependency graph: completeness checks and requirements, level by level."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from trunq.core.completion import clear_completion_cache, is_complete  # noqa: F401  (re-exported)
from trunq.core.errors import DependencyCycleError, UnsatisfiableResourcesError
from trunq.core.events import Event
from trunq.core.graph import find_cycle
from trunq.scheduler.core import (
    DONE,
    MISSING_EXT,
    NO_RESOURCES,
    PENDING,
    SCHEDULING_ERROR,
    Node,
    SchedulerCore,
    batch_key_for,
)

logger = logging.getLogger("trunq")

# A completeness check slower than this on average (a remote store, a database) is worth a
# thread; a local file's check (a few microseconds) costs more handed to one than made here.
SLOW_CHECK_S = 0.002


def _check(step: Any) -> bool | BaseException:
    try:
        return is_complete(step)
    except Exception as exc:  # reported as a scheduling error of that step
        return exc


class Resolver:
    """Adds steps and everything they require to a SchedulerCore."""

    def __init__(self, core: SchedulerCore, *, threads: int = 0, adaptive: bool = False,
                 attempts: Callable[[Any], int] = lambda step: 1) -> None:
        """``threads`` > 1: check completeness on a thread pool; with ``adaptive``, only once
        checks made here prove slow (``SLOW_CHECK_S``)."""
        self.core = core
        self._adaptive = adaptive
        self._slow = False
        self.attempts = attempts  # RetryPolicy.attempts: runs of a step before giving up
        # checks of an incomplete ExternalStep ([worker] retry_external_tasks); None: never checked again
        self.external_attempts: Callable[[Any], int] | None = None
        self._pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def use_threads(self, threads: int) -> None:
        """Check completeness with ``threads`` threads from now on (``--parallel-scheduling``)."""
        self._adaptive = False
        if self._pool is None and threads > 1:
            self._pool = ThreadPoolExecutor(threads)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    def expand(self, roots: Iterable[Any]) -> list[Node]:
        """Discover every step not yet known; returns the new nodes (already linked)."""
        nodes = self.core.nodes
        frontier = []
        # The ids of this level and the next: older levels are in ``nodes`` already (a set of
        # every id would be a million strings' worth of hashing at the peak of a big build).
        seen: set[str] = set()
        for step in roots:
            if step.step_id not in nodes and step.step_id not in seen:
                seen.add(step.step_id)
                frontier.append(step)
        added: list[Node] = []
        while frontier:
            results = self._check_all(frontier)
            next_frontier = []
            next_seen: set[str] = set()
            for step, result in zip(frontier, results):
                node, deps = self._make_node(step, result)
                self.core.add(node)
                added.append(node)
                for dep in deps:
                    dep_id = dep.step_id
                    if dep_id not in nodes and dep_id not in seen and dep_id not in next_seen:
                        next_seen.add(dep_id)
                        next_frontier.append(dep)
            frontier, seen = next_frontier, next_seen
        self._refuse_cycles(added)
        for node in added:
            self.core.link(node)
        return added

    def _check_all(self, steps: list[Any]) -> list[bool | BaseException]:
        if self._pool is None or len(steps) < 2:
            return [_check(step) for step in steps]
        if not self._adaptive or self._slow:
            return list(self._pool.map(_check, steps))
        results: list[bool | BaseException] = []
        began = time.perf_counter()
        for step in steps:
            results.append(_check(step))
            if time.perf_counter() - began > SLOW_CHECK_S * len(results):
                self._slow = True  # from now on every check goes to the threads
                return results + list(self._pool.map(_check, steps[len(results):]))
        return results

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
            step.trigger_event(Event.DEPENDENCY_MISSING, step)
            if self.external_attempts is None:
                node.status = MISSING_EXT
            else:  # luigi's [worker] retry_external_tasks: checked again when its turn comes
                node.status = PENDING
                node.retries_left = self.external_attempts(step) - 1
            return node, []
        try:
            deps = step.deps()
            resources = step.process_resources()
        except Exception as exc:
            return self._broken(node, exc, "requires()"), []
        node.deps = tuple([dep.step_id for dep in deps])
        node.resources = resources or NO_RESOURCES
        too_big = self._unsatisfiable(resources)
        if too_big:
            return self._refused(node, too_big), []
        node.batch_key = batch_key_for(step, resources)
        node.max_batch_size = step.max_batch_size
        node.retries_left = self.attempts(step) - 1
        node.status = PENDING
        for dep in deps:
            step.trigger_event(Event.DEPENDENCY_DISCOVERED, step, dep)
        return node, deps

    def _unsatisfiable(self, resources: dict[str, int]) -> str:
        """Why these resources can never be granted ('' when they can)."""
        limits = self.core.limits
        for name, amount in sorted(resources.items()):
            capacity = limits.get(name, 1)  # an undeclared resource has capacity 1
            if amount > capacity:
                return f"resource {name!r}: asks {amount}, capacity is {capacity}"
        return ""

    @staticmethod
    def _refused(node: Node, why: str) -> Node:
        error = UnsatisfiableResourcesError(f"{node.step!r} can never run: {why}")
        node.status = SCHEDULING_ERROR
        node.expl = str(error)
        logger.error("%s", node.expl)
        node.step.trigger_event(Event.BROKEN_STEP, node.step, error)
        return node

    @staticmethod
    def _broken(node: Node, exc: BaseException, where: str) -> Node:
        node.status = SCHEDULING_ERROR
        node.expl = f"{where} of {node.step!r} raised {type(exc).__name__}: {exc}"
        logger.error("%s", node.expl)
        node.step.trigger_event(Event.BROKEN_STEP, node.step, exc)
        return node

    def _refuse_cycles(self, added: list[Node]) -> None:
        # A cycle lies within the new nodes (older ones never require newer ones); following
        # edges into older PENDING nodes costs a little time but no copy of the graph.
        nodes = self.core.nodes
        pending = (node.step_id for node in added if node.status == PENDING)
        cycle = find_cycle(pending, lambda step_id: (d for d in nodes[step_id].deps if nodes[d].status == PENDING))
        if cycle:
            names = " -> ".join(repr(nodes[step_id].step) for step_id in cycle)
            raise DependencyCycleError(f"dependency cycle: {names}")
