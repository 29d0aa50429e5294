"""Read-only views of the state store, shaped for the API. No Flask here.

Every function reads a bounded amount: one page, one step's upstream graph (capped), or
one bounded window of recent steps. Nothing scans all steps, so 100,000 registered steps
cost the same per request as 100.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from trunq.core.status import Status
from trunq.scheduler.state import StateStore, StepRecord

STATUSES = tuple(Status)
# Which status wins when a collapsed family group mixes several (worst first).
_SEVERITY = (Status.FAILED, Status.DISABLED, Status.UPSTREAM_FAILED, Status.UPSTREAM_DISABLED,
             Status.RUNNING, Status.BATCH_RUNNING, Status.PENDING, Status.UNKNOWN, Status.DONE)


_LIVE = (Status.RUNNING, Status.BATCH_RUNNING)


def live_fields(record: StepRecord) -> dict[str, Any]:
    """Progress and status message are what a running step says about itself: once it is not
    running they are stale (a DONE step "at 40 %"), so they are not shown."""
    live = record.status in _LIVE
    return {"status_message": record.status_message if live else None,
            "progress": record.progress if live else None}


def step_summary(record: StepRecord) -> dict[str, Any]:
    """The fields a list row needs (no deps: they can be long)."""
    return {
        "step_id": record.step_id, "family": record.family, "status": record.status,
        "params": record.params, **live_fields(record),
        "worker": record.worker, "batch_id": record.batch_id, "updated": record.updated, "started": record.started,
        "finished": record.finished, "retries": record.retries, "accepts_messages": record.accepts_messages,
    }


def step_page(store: StateStore, *, status: str | None, family: str | None, search: str | None,
              offset: int, limit: int, sort: str = "updated", descending: bool = True) -> dict[str, Any]:
    total, records = store.list_steps(status=status, family=family, search=search, offset=offset, limit=limit,
                                      sort=sort, descending=descending)
    return {"total": total, "offset": offset, "limit": limit, "sort": sort,
            "order": "desc" if descending else "asc", "steps": [step_summary(r) for r in records]}


def overview(store: StateStore, family: str | None = None) -> dict[str, Any]:
    return {"status_counts": store.status_counts(family), "family_counts": store.family_counts()}


def step_detail(store: StateStore, step_id: str, dependents_max: int, deps_offset: int = 0) -> dict[str, Any] | None:
    """The record plus one page of at most ``dependents_max`` dependencies and dependents: a
    step with 20,000 dependencies must not re-send them all on every poll."""
    record = store.get(step_id)
    if record is None:
        return None
    detail = record.to_dict()
    detail.update(live_fields(record))
    detail["now"] = store.now()  # the store's clock: elapsed time without trusting the browser's
    page_ids = record.deps[deps_offset:deps_offset + dependents_max]
    detail["deps"] = page_ids
    detail["deps_total"] = len(record.deps)
    detail["deps_offset"] = deps_offset
    detail["deps_page_size"] = dependents_max
    detail["dependencies_complete"] = deps_offset == 0 and len(page_ids) == len(record.deps)
    by_id = {r.step_id: r for r in store.get_many(page_ids) if r is not None}
    detail["dependencies"] = [_link(by_id[dep]) if dep in by_id else {"step_id": dep, "family": None, "status": "UNKNOWN"}
                              for dep in page_ids]
    detail["dependents"], detail["dependents_complete"] = dependents(store, step_id, dependents_max)
    return detail


def _link(record: StepRecord) -> dict[str, Any]:
    return {"step_id": record.step_id, "family": record.family, "status": record.status}


def dependents(store: StateStore, step_id: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The steps that need ``step_id`` (the store's reverse index), at most ``limit`` of
    them; the flag is False when some were left out."""
    ids = store.dependents(step_id)
    shown = [record for record in store.get_many(ids[:limit]) if record is not None]
    return [_link(record) for record in shown], len(ids) <= limit


def upstream_records(store: StateStore, root: StepRecord, max_nodes: int) -> tuple[list[StepRecord], bool]:
    """Breadth-first walk of the dependencies, one ``get_many`` per level; True when cut short."""
    seen: dict[str, StepRecord] = {root.step_id: root}
    frontier = deque([root])
    truncated = False
    while frontier:
        level = list(frontier)
        frontier.clear()
        wanted = list(dict.fromkeys(d for r in level for d in r.deps if d not in seen))
        room = max_nodes - len(seen)
        if len(wanted) > room:
            wanted, truncated = wanted[:room], True
        for record in store.get_many(wanted):
            if record is not None and record.step_id not in seen:
                seen[record.step_id] = record
                frontier.append(record)
    return list(seen.values()), truncated


def dependency_graph(store: StateStore, step_id: str, *, max_nodes: int, collapse_above: int,
                     collapse: bool | None = None) -> dict[str, Any] | None:
    """Nodes and edges (``from`` needs ``to``) of a step's upstream graph.

    Above ``collapse_above`` nodes (or when asked) every family except the root's becomes
    one node carrying its status counts, so a graph of thousands stays readable.
    """
    root = store.get(step_id)
    if root is None:
        return None
    records, truncated = upstream_records(store, root, max_nodes)
    collapsed = len(records) > collapse_above if collapse is None else collapse
    graph = _family_graph(root, records) if collapsed else _step_graph(records)
    graph.update(root=step_id, truncated=truncated, collapsed=collapsed, step_count=len(records))
    return graph


def _step_graph(records: list[StepRecord]) -> dict[str, Any]:
    known = {r.step_id for r in records}
    nodes = [{"id": r.step_id, "label": r.step_id, "family": r.family, "status": r.status,
              "count": 1, "progress": r.progress} for r in records]
    edges = [{"from": r.step_id, "to": dep} for r in records for dep in r.deps if dep in known]
    return {"nodes": nodes, "edges": edges}


def _family_graph(root: StepRecord, records: list[StepRecord]) -> dict[str, Any]:
    def group_of(record: StepRecord) -> str:
        return record.step_id if record.step_id == root.step_id else f"family:{record.family}"

    group_by_step = {r.step_id: group_of(r) for r in records}
    groups: dict[str, dict[str, Any]] = {}
    for record in records:
        group_id = group_by_step[record.step_id]
        label = record.step_id if group_id == root.step_id else record.family
        node = groups.setdefault(group_id, {"id": group_id, "label": label, "family": record.family,
                                            "count": 0, "statuses": {}})
        node["count"] += 1
        node["statuses"][record.status] = node["statuses"].get(record.status, 0) + 1
    for node in groups.values():
        node["status"] = worst_status(node["statuses"])
    edge_keys = {(group_by_step[r.step_id], group_by_step[d]) for r in records for d in r.deps
                 if d in group_by_step and group_by_step[d] != group_by_step[r.step_id]}
    edges = [{"from": source, "to": target} for source, target in sorted(edge_keys)]
    return {"nodes": list(groups.values()), "edges": edges}


def worst_status(counts: dict[str, int]) -> str:
    for status in _SEVERITY:
        if counts.get(status):
            return status
    return next(iter(counts), "UNKNOWN")


def timeline(store: StateStore, root_id: str | None, *, max_nodes: int, recent: int = 200) -> dict[str, Any] | None:
    """Bars (started → finished or now) of a build: the root's upstream graph, else recent steps."""
    if root_id:
        root = store.get(root_id)
        if root is None:
            return None
        records, truncated = upstream_records(store, root, max_nodes)
    else:
        total, records = store.list_steps(offset=0, limit=recent)
        truncated = total > recent
    bars = [{"step_id": r.step_id, "family": r.family, "status": r.status, "worker": r.worker,
             "started": r.started, "finished": r.finished} for r in records if r.started is not None]
    bars.sort(key=lambda bar: (bar["started"], bar["finished"] is None, bar["finished"] or 0.0))
    return {"root": root_id, "now": store.now(), "bars": bars, "truncated": truncated,
            "not_started": sum(1 for r in records if r.started is None)}


def workers(store: StateStore, running_limit: int) -> dict[str, Any]:
    """Live workers, each with the steps it runs (its running index, batch members included)
    and when each started; running steps of no live worker (one bounded page) apart."""
    by_worker: dict[str, list[str]] = {}
    for status in (Status.RUNNING, Status.BATCH_RUNNING):
        for record in store.list_steps(status=status, offset=0, limit=running_limit)[1]:
            by_worker.setdefault(record.worker_id or record.worker or "?", []).append(record.step_id)
    listed = []
    for info in sorted(store.live_workers(), key=lambda w: str(w.get("id"))):
        worker_id = str(info.get("id"))
        ids = sorted(set(store.running_steps(worker_id)) | set(by_worker.pop(worker_id, [])))
        records = [record for record in store.get_many(ids) if record is not None]
        listed.append({**info, "running": [record.step_id for record in records],
                       "running_steps": [_running_entry(record) for record in records]})
    return {"now": store.now(), "workers": listed, "running_elsewhere": by_worker}


def _running_entry(record: StepRecord) -> dict[str, Any]:
    return {"step_id": record.step_id, "family": record.family, "status": record.status,
            "started": record.started, "worker": record.worker, "worker_pid": record.worker_pid}


def resources(store: StateStore, limits: dict[str, int]) -> dict[str, Any]:
    """Each resource's limit, units in use and holders with the steps they hold units for
    (``steps``; a holder that is itself a step id is ``is_step``)."""
    usage = store.resource_usage()
    names = sorted(set(usage) | set(limits))
    holder_ids = sorted({holder for holders in usage.values() for holder in holders})
    known_steps = {h for h, record in zip(holder_ids, store.get_many(holder_ids), strict=True) if record is not None}
    steps_of = store.holder_steps(holder_ids)
    listed = []
    for name in names:
        holders = usage.get(name, {})
        listed.append({
            "name": name, "limit": limits.get(name, 1), "in_use": sum(holders.values()),
            "holders": [{"holder": h, "units": u, "is_step": h in known_steps, "steps": steps_of.get(h, [])}
                        for h, u in sorted(holders.items())],
        })
    return {"resources": listed}
