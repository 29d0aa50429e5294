"""A node's upstream (what it needs) or downstream (what needs it), bounded in depth and size.

Upstream follows each record's ``deps``; downstream follows the store's reverse index
(``dependents``). The walk is breadth-first, one ``get_many`` per level, and stops at
``depth`` levels or ``limit`` nodes, so a 20,000-step graph costs at most ``limit`` records.
A node whose neighbours were not all shown gets a "more…" node saying how many are hidden,
linking to the same view centred on that node. No Flask here.
"""

from __future__ import annotations

from typing import Any

from trunq.scheduler.state import StateStore, StepRecord

DIRECTIONS = ("upstream", "downstream")


def lineage(store: StateStore, step_id: str, direction: str, *, depth: int, limit: int) -> dict[str, Any] | None:
    """Nodes and edges (``from`` needs ``to``) of ``step_id``'s ancestors or descendants."""
    root = store.get(step_id)
    if root is None:
        return None
    upstream = direction == "upstream"
    shown: dict[str, StepRecord] = {root.step_id: root}
    neighbours: dict[str, list[str]] = {}
    level, truncated = [root], False
    for reached in range(depth + 1):
        for record in level:  # the last level's too: its hidden neighbours become "more…"
            neighbours[record.step_id] = list(record.deps) if upstream else store.dependents(record.step_id)
        if reached == depth:
            break
        wanted = list(dict.fromkeys(n for r in level for n in neighbours[r.step_id] if n not in shown))
        room = limit - len(shown)
        if len(wanted) > room:
            wanted, truncated = wanted[:max(room, 0)], True
        level = [r for r in store.get_many(wanted) if r is not None and r.step_id not in shown]
        shown.update((r.step_id, r) for r in level)
        if not level:
            break
    return _graph(root.step_id, direction, shown, neighbours, truncated)


def _graph(root: str, direction: str, shown: dict[str, StepRecord], neighbours: dict[str, list[str]],
           truncated: bool) -> dict[str, Any]:
    upstream = direction == "upstream"
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []

    def link(node: str, other: str) -> None:
        edges.append({"from": node, "to": other} if upstream else {"from": other, "to": node})

    for step_id, record in shown.items():
        nodes.append({"id": step_id, "label": step_id, "family": record.family, "status": record.status,
                      "count": 1, "progress": record.progress})
        listed = neighbours.get(step_id)
        if listed is None:  # the walk stopped before this node's neighbours were read
            continue
        hidden = 0
        for other in listed:
            if other in shown:
                link(step_id, other)
            else:
                hidden += 1
        if hidden:
            more_id = f"more:{step_id}"
            nodes.append({"id": more_id, "label": f"more… ({hidden})", "family": None, "status": "UNKNOWN",
                          "count": 1, "more_of": step_id, "hidden": hidden})
            link(step_id, more_id)
    return {"root": root, "direction": direction, "nodes": nodes, "edges": edges, "truncated": truncated,
            "collapsed": False, "step_count": len(shown)}
