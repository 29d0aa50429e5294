"""Orders the steps list can be sorted in, shared by the memory and Redis stores.

Every order is total: ties are broken by step id, so a page stays put across polls.
``updated`` is served straight from the per-filter sorted sets (score = update time in ms,
equal scores fall back to member order, i.e. step id). The other orders have no index of
their own: ``status`` and ``family`` walk the per-status / per-family sets in name order,
sorting only the ids of each set (never reading step hashes), and ``id`` sorts the ids of the
one filtered set. That is a bounded sort of ids (at most ``MAX_SEARCH_SCAN`` per set) done in
Python, not in Lua, so the order is plain code-point order whatever the server's locale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from trunq.core.errors import UsageError

SORTS = ("updated", "id", "family", "status")


def check_sort(sort: str | None) -> str:
    """The sort name, or a UsageError naming the allowed ones."""
    sort = sort or "updated"
    if sort not in SORTS:
        raise UsageError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    return sort


def record_key(sort: str) -> Callable[[Any], tuple]:
    """Sort key of a StepRecord for ``sort`` (the memory store's order, mirrored by Redis)."""
    if sort == "updated":
        return lambda r: (round((r.updated or 0) * 1000), r.step_id)
    if sort == "id":
        return lambda r: (r.step_id,)
    return lambda r: (getattr(r, sort) or "", r.step_id)


def page_of_groups(sizes: Sequence[int],
                   fetch: Callable[[int], Iterable[str]], *, needle: str | None,
                   offset: int, limit: int, descending: bool) -> tuple[int, list[str]]:
    """One page over groups of ids (in ascending group order), ids sorted within a group.

    ``sizes[i]`` is the size of group i; ``fetch(i)`` returns its ids, only called for the
    groups that hold part of the page (or every group when filtering by ``needle``)."""
    order = range(len(sizes) - 1, -1, -1) if descending else range(len(sizes))
    total = 0
    page: list[str] = []
    lowered = needle.lower() if needle else None
    for i in order:
        if lowered is None and (total + sizes[i] <= offset or len(page) >= limit):
            total += sizes[i]
            continue
        ids = sorted(fetch(i), reverse=descending)
        if lowered is not None:
            ids = [step_id for step_id in ids if lowered in step_id.lower()]
        start = max(0, offset - total)
        page.extend(ids[start:start + max(0, limit - len(page))])
        total += len(ids)
    return total, page


def updated_page(client: Any, index: str, *, offset: int, limit: int,
                 descending: bool) -> tuple[int, list[str]]:
    """One page of a Redis index set in update order: its count and one range, one round trip."""
    pipe = client.pipeline(transaction=False)
    pipe.zcard(index)
    if limit > 0:
        (pipe.zrevrange if descending else pipe.zrange)(index, offset, offset + limit - 1)
    total, *pages = pipe.execute()
    return total, (pages[0] if pages else [])


def sorted_page(client: Any, keys: Sequence[str], max_scan: int, *, needle: str | None,
                offset: int, limit: int, descending: bool) -> tuple[int, list[str]]:
    """One page over Redis index sets ``keys`` (groups in ascending order), ids sorted in each.

    Sizes come from one pipelined ZCARD; only the sets holding part of the page are read."""
    pipe = client.pipeline(transaction=False)
    for index in keys:
        pipe.zcard(index)
    sizes = [min(int(n), max_scan) for n in pipe.execute()] if keys else []
    return page_of_groups(sizes, lambda i: client.zrange(keys[i], 0, max_scan - 1), needle=needle,
                          offset=offset, limit=limit, descending=descending)
