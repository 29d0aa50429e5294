"""Scheduling policy, with no I/O: readiness, priority, resources, batching, retries.

Every step of a build is a ``Node``. A node becomes READY when all of its dependencies are
DONE (in-degree counters, so finishing a step costs O(its dependents)). READY nodes wait in
one priority heap per resource signature; a hand-out looks only at the heads of those heaps,
so its cost does not grow with the number of pending steps. A higher-ranked head that does
not fit its resources reserves them against lower-ranked heads (no starvation of big
requests). Batchable nodes coalesce with READY siblings of the same batch key.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trunq.core.status import Status

# Node states (finer than trunq.core.status.Status: the summary needs the reasons).
PENDING = Status.PENDING  # waiting for dependencies
READY = "READY"
RUNNING = Status.RUNNING
BATCH_RUNNING = Status.BATCH_RUNNING
DONE = Status.DONE
FAILED = Status.FAILED
DISABLED = Status.DISABLED
UPSTREAM_FAILED = Status.UPSTREAM_FAILED
UPSTREAM_DISABLED = Status.UPSTREAM_DISABLED
MISSING_EXT = "MISSING_EXT"  # an incomplete ExternalStep
SCHEDULING_ERROR = "SCHEDULING_ERROR"  # complete() or requires() raised
RUN_BY_OTHER = "RUN_BY_OTHER"  # another client or worker holds its lease
RETRY_WAIT = "RETRY_WAIT"


NO_RESOURCES: dict[str, int] = {}  # shared by the nodes that use none: never mutated, only replaced


@dataclass(eq=False, slots=True)  # slots: a node per step, a million of them in a big build
class Node:
    step_id: str
    step: Any
    deps: tuple[str, ...] = ()
    status: str = PENDING
    priority: int = 0
    resources: dict[str, int] = field(default_factory=lambda: NO_RESOURCES)
    batch_key: Any = None
    max_batch_size: float = float("inf")
    retries_left: int = 0
    initially_done: bool = False
    ran_here: bool = False
    ever_failed: bool = False
    expl: str | None = None
    dependents: list[Node] | tuple[()] = ()  # a list once some step needs it (most nodes: one)
    unmet: int = 0
    seq: int = 0
    lost: int = 0  # times the executor vanished while running it (distributed mode)


def _add_dependent(dep: Node, node: Node) -> None:
    if dep.dependents:
        dep.dependents.append(node)
    else:  # the first: the shared empty tuple becomes the node's own list
        dep.dependents = [node]


class SchedulerCore:
    """The in-memory policy one build client applies to its graph."""

    def __init__(self, resource_limits: dict[str, int] | None = None) -> None:
        self.nodes: dict[str, Node] = {}
        self.limits = dict(resource_limits or {})
        self.used: dict[str, int] = {}
        self._ready: dict[tuple[tuple[str, int], ...], list[tuple[int, int, Node]]] = {}
        self._batches: dict[Any, dict[str, Node]] = {}
        self._delayed: list[tuple[float, int, Node]] = []
        self._seq = itertools.count()
        self.running = 0

    # ---- building the graph ------------------------------------------------------------
    def add(self, node: Node) -> Node:
        """Add a node whose deps are already added (or added later via ``link``)."""
        existing = self.nodes.get(node.step_id)
        if existing is not None:
            return existing
        node.seq = next(self._seq)
        self.nodes[node.step_id] = node
        return node

    def link(self, node: Node) -> None:
        """Count the node's unmet dependencies and make it READY if there are none.

        Call once per node after its dependencies are in ``nodes``.
        """
        unmet = 0
        for dep_id in node.deps:
            dep = self.nodes[dep_id]
            _add_dependent(dep, node)
            if dep.status != DONE:
                unmet += 1
            if node.priority > dep.priority:
                self._raise_priority(dep, node.priority)
        node.unmet = unmet
        if node.status == PENDING and unmet == 0:
            self._make_ready(node)

    def _raise_priority(self, node: Node, priority: int) -> None:
        """Priority flows to dependencies and only ever increases."""
        stack = [node]
        while stack:
            current = stack.pop()
            if current.priority >= priority:
                continue
            current.priority = priority
            if current.status == READY:
                self._push(current)  # the stale entry is skipped when popped
            stack.extend(self.nodes[dep_id] for dep_id in current.deps)

    def set_new_deps(self, members: list[Node], dep_ids: list[str]) -> None:
        """A running step yielded new requirements: it waits for them, then runs again."""
        self.running -= 1
        self._free(members[0])
        for node in members:
            node.status = PENDING
            node.deps = tuple(dict.fromkeys((*node.deps, *dep_ids)))
            for dep_id in dep_ids:
                dep = self.nodes[dep_id]
                if node not in dep.dependents:
                    _add_dependent(dep, node)
            node.unmet = sum(1 for dep_id in node.deps if self.nodes[dep_id].status != DONE)
            if node.unmet == 0:
                self._make_ready(node)

    def abandon(self, first: Node) -> None:
        """Undo ``next_batch`` for a job none of whose steps could be leased."""
        self.running -= 1
        self._free(first)

    def requeue(self, node: Node) -> None:
        """A step another client held is free again: run it here when its deps allow."""
        node.status = PENDING
        if node.unmet == 0:
            self._make_ready(node)

    # ---- ready queues ------------------------------------------------------------------
    def _make_ready(self, node: Node) -> None:
        node.status = READY
        self._push(node)
        if node.batch_key is not None:
            self._batches.setdefault(node.batch_key, {})[node.step_id] = node

    def _push(self, node: Node) -> None:
        key = tuple(sorted(node.resources.items()))
        heapq.heappush(self._ready.setdefault(key, []), (-node.priority, node.seq, node))

    def has_ready(self) -> bool:
        return any(self._head(heap) is not None for heap in self._ready.values())

    @staticmethod
    def _head(heap: list[tuple[int, int, Node]]) -> Node | None:
        while heap:
            priority, _, node = heap[0]
            if node.status == READY and -priority == node.priority:
                return node
            heapq.heappop(heap)
        return None

    def next_batch(self) -> list[Node] | None:
        """Take the best READY node that fits the free resources, with its batch siblings.

        The first node of the returned list is the one that ranks highest; the nodes are
        RUNNING (one node) or BATCH_RUNNING (several) and hold the resources.
        """
        heads = [(-(node.priority), node.seq, node) for heap in self._ready.values()
                 if (node := self._head(heap)) is not None]
        heads.sort(key=lambda entry: entry[:2])
        reserved: dict[str, int] = {}
        for _, _, node in heads:
            if self._fits(node.resources, reserved):
                return self._take(node)
            for name, amount in node.resources.items():
                reserved[name] = reserved.get(name, 0) + amount
        return None

    def _fits(self, wants: dict[str, int], reserved: dict[str, int]) -> bool:
        for name, amount in wants.items():
            limit = self.limits.get(name, 1)
            if self.used.get(name, 0) + reserved.get(name, 0) + amount > limit:
                return False
        return True

    def _take(self, node: Node) -> list[Node]:
        members = [node]
        if node.batch_key is not None:
            group = self._batches.get(node.batch_key, {})
            group.pop(node.step_id, None)
            for other in sorted(group.values(), key=lambda n: (-n.priority, n.seq)):
                if len(members) >= node.max_batch_size:
                    break
                members.append(other)
            for other in members[1:]:
                group.pop(other.step_id, None)
        status = RUNNING if len(members) == 1 else BATCH_RUNNING
        for member in members:
            member.status = status
        for name, amount in node.resources.items():  # only the running step uses resources
            self.used[name] = self.used.get(name, 0) + amount
        self.running += 1
        return members

    def take_followers(self, leader: Node, limit: int, eligible: Callable[[Node], bool]) -> list[Node]:
        """A chain of steps to run right after ``leader`` in its process: each waits only on
        the one before it. They are RUNNING from now; a follower that could not run comes back
        through ``set_new_deps(members, [])``."""
        chain: list[Node] = []
        current = leader
        while len(chain) < limit:
            follower = next((user for user in current.dependents
                             if user.unmet == 1 and user.status == PENDING and user.batch_key is None
                             and not user.resources and eligible(user)), None)
            if follower is None:
                break
            follower.status = RUNNING
            self.running += 1
            chain.append(follower)
            current = follower
        return chain

    def give_back(self, members: list[Node]) -> None:
        """Undo ``next_batch`` (the lease or the shared resources could not be taken)."""
        self.running -= 1
        self._free(members[0])
        for member in members:
            self._make_ready(member)

    def _free(self, node: Node) -> None:
        for name, amount in node.resources.items():
            self.used[name] = max(0, self.used.get(name, 0) - amount)

    def decrease_resources(self, node: Node, amounts: dict[str, int]) -> None:
        for name, amount in amounts.items():
            held = node.resources.get(name, 0)
            give = min(held, amount)
            node.resources = {**node.resources, name: held - give}
            self.used[name] = max(0, self.used.get(name, 0) - give)

    # ---- outcomes ----------------------------------------------------------------------
    def finished(self, members: list[Node], ok: bool, expl: str | None = None) -> list[Node]:
        """A job ended. Returns the nodes that became READY."""
        self.running -= 1
        self._free(members[0])
        became_ready: list[Node] = []
        for member in members:
            member.expl = expl
            member.ran_here = True
            if ok:
                became_ready.extend(self.mark_done(member))
            else:
                member.ever_failed = True
                member.status = FAILED
        return became_ready

    def mark_done(self, node: Node) -> list[Node]:
        node.status = DONE
        became_ready = []
        for user in node.dependents:
            user.unmet -= 1
            if user.unmet == 0 and user.status == PENDING:
                self._make_ready(user)
                became_ready.append(user)
        return became_ready

    def retry_later(self, node: Node, at: float) -> None:
        node.ever_failed = True
        node.status = RETRY_WAIT
        heapq.heappush(self._delayed, (at, node.seq, node))

    def next_retry_time(self) -> float | None:
        return self._delayed[0][0] if self._delayed else None

    def release_due(self, now: float) -> None:
        while self._delayed and self._delayed[0][0] <= now:
            _, _, node = heapq.heappop(self._delayed)
            if node.status == RETRY_WAIT:
                self._make_ready(node)

    def waiting_for_retry(self) -> bool:
        return bool(self._delayed)

    def upstream_problems(self) -> dict[str, set[str]]:
        """For every node left PENDING: which kinds of problem lie upstream of it.

        One memoised walk, O(nodes + edges).
        """
        def fold(dep: Node, inherited: frozenset[str] | None) -> frozenset[str]:
            return frozenset(_own_problem(dep)) | (inherited or frozenset())

        found = self._fold_upstream(fold, lambda parts: frozenset().union(*parts))
        return {step_id: set(kinds) for step_id, kinds in found.items()}

    def upstream_statuses(self) -> dict[str, Status]:
        """Nodes still waiting whose dependencies (transitively) failed or were disabled:
        UPSTREAM_DISABLED when a disabled step is among them, else UPSTREAM_FAILED."""
        def fold(dep: Node, inherited: Status | None) -> frozenset[Status]:
            own = (UPSTREAM_DISABLED if dep.status in (DISABLED, UPSTREAM_DISABLED)
                   else UPSTREAM_FAILED if dep.status in (FAILED, SCHEDULING_ERROR) else None)
            return frozenset(status for status in (own, inherited) if status is not None)

        def combine(parts: list[frozenset[Status]]) -> Status | None:
            found = frozenset().union(*parts)
            return UPSTREAM_DISABLED if UPSTREAM_DISABLED in found else UPSTREAM_FAILED if found else None

        marks = self._fold_upstream(fold, combine)
        return {step_id: status for step_id, status in marks.items() if status is not None}

    def _fold_upstream(self, fold: Callable[[Node, Any], Any], combine: Callable[[list[Any]], Any]) -> dict[str, Any]:
        """For every node still waiting: ``combine`` over its deps of ``fold(dep, value of dep)``,
        computed bottom-up once per node (iteratively: graphs can be deeper than the stack)."""
        memo: dict[str, Any] = {}
        for start in self.nodes.values():
            if start.status not in (PENDING, READY):
                continue
            stack: list[tuple[Node, bool]] = [(start, False)]
            while stack:
                node, expanded = stack.pop()
                if node.step_id in memo:
                    continue
                if not expanded:
                    stack.append((node, True))
                    stack.extend((self.nodes[d], False) for d in node.deps if d not in memo)
                    continue
                memo[node.step_id] = combine([fold(self.nodes[d], memo.get(d)) for d in node.deps])
        return {node.step_id: memo[node.step_id] for node in self.nodes.values()
                if node.status in (PENDING, READY)}

def _own_problem(node: Node) -> set[str]:
    return {
        FAILED: {"upstream_failure"},
        MISSING_EXT: {"upstream_missing_dependency"},
        SCHEDULING_ERROR: {"upstream_scheduling_error"},
        RUN_BY_OTHER: {"upstream_run_by_other_worker"},
        DISABLED: {"upstream_failure"},
    }.get(node.status, set())


def batch_key_for(step: Any, resources: dict[str, int]) -> Any:
    """Steps coalesce when family, non-batched parameters and resources are equal."""
    if not step.batchable:
        return None
    values = step.param_kwargs
    fixed = tuple((name, repr(values[name])) for name, param in step.get_params() if param.batch_method is None)
    return (step.step_family, fixed, tuple(sorted(resources.items())))


def aggregate_step(members: list[Any]) -> Any:
    """The one step that runs for a batch: batched parameters combined by batch_method."""
    first = members[0]
    if len(members) == 1:
        return first
    kwargs = dict(first.param_kwargs)
    for name, param in first.get_params():
        if param.batch_method is not None:
            kwargs[name] = param.batch_method([m._param_value(name) for m in members])
    return type(first)(**kwargs)

