"""Chunks: several short steps in one Celery message (issue 14).

Client side, ``ChunkSizer`` picks how many ready steps of one family travel together: it
starts at 1 and doubles while steps finish fast (under ``SHORT_STEP_S`` each, estimated from
the finish rate across the worker slots, every round of finishes), halving when they do not, up to ``MAX_CHUNK``.
Steps with a time limit are never chunked (Celery's limits apply to a whole message).

Worker side, ``run_chunk`` keeps every member a separate job: its own lease, fencing token,
start-once and fenced finish event, run one after another by ``run_payload_with``. From the
moment the message arrives the worker renews all members' leases, so the client stops
renewing the whole chunk as soon as one member starts; if the worker dies, every member
that did not finish loses its lease and the client dispatches it again, step by step.
"""

from __future__ import annotations

import time
from typing import Any

from trunq.tasks import worker_side

SHORT_STEP_S = 0.05
MAX_CHUNK = 64
RATE_WINDOW_S = 0.5
MIN_SAMPLE = 4
CHUNK_PREFIX = "chunk of "


class ChunkSizer:
    """The adaptive chunk size, from the finish rate of recent steps."""

    def __init__(self, max_chunk: int = MAX_CHUNK, start: int = 1) -> None:
        self.max_chunk = max(1, int(max_chunk))
        self.size = max(1, min(self.max_chunk, int(start)))
        self._since = time.monotonic()
        self._count = 0

    def finished(self, slots: int, now: float | None = None) -> None:
        """One step finished. Once a round of finishes (a chunk per slot, at least
        ``MIN_SAMPLE``) has come in, estimate a step's duration from their rate and adjust."""
        now = time.monotonic() if now is None else now
        self._count += 1
        slots = max(1, slots)
        elapsed = now - self._since
        if self._count < max(MIN_SAMPLE, slots * self.size // 2) and elapsed < RATE_WINDOW_S:
            return
        per_step = slots * elapsed / self._count
        self._since, self._count = now, 0
        if per_step < SHORT_STEP_S:
            self.size = min(self.max_chunk, self.size * 2)
        elif per_step > 2 * SHORT_STEP_S:
            self.size = max(1, self.size // 2)

    def split(self, jobs: list[Any], slots: int, limited: Any) -> list[list[Any]]:
        """Group ``jobs`` into messages: same family, no time limit, and never so large
        that fewer messages than worker slots carry them."""
        singles: list[list[Any]] = []
        families: dict[str, list[Any]] = {}
        for job in jobs:
            if self.size <= 1 or limited(job) or len(job.members) != 1:
                singles.append([job])
            else:
                families.setdefault(job.step.get_task_family(), []).append(job)
        chunks = singles
        for group in families.values():
            size = max(1, min(self.size, -(-len(group) // max(1, slots))))
            chunks.extend(group[start:start + size] for start in range(0, len(group), size))
        return chunks


def shadow_name(step_ids: list[str]) -> str:
    """What Flower and ``celery inspect`` show as the task's name."""
    if len(step_ids) == 1:
        return step_ids[0]
    return f"{CHUNK_PREFIX}{len(step_ids)}: {step_ids[0]} ..."


def run_chunk(payloads: list[dict[str, Any]]) -> list[str]:
    """Run the members of one chunk, each as its own fenced job."""
    return run_chunk_with(worker_side.process_store(), payloads, worker_side.execution_id())


def run_chunk_with(store: Any, payloads: list[dict[str, Any]], worker: str) -> list[str]:
    keeper = worker_side.lease_keeper
    waiting = [(f"queued|{index}|{id(payloads)}", payload) for index, payload in enumerate(payloads)]
    for key, payload in waiting:  # keep the leases of members not yet started
        keeper.track(key, store, worker_side.payload_lease(payload), None)
    results = []
    for key, payload in waiting:
        if keeper.untrack(key) == worker_side.LOST:
            results.append("lost")  # another dispatch owns the step now; its start would be refused
            continue
        results.append(worker_side.run_payload_with(store, payload, worker))
    return results


def crash_failure(payloads: list[dict[str, Any]], reason: str) -> None:
    """The pool process died mid-chunk: the member it was running (started with its own
    token, not finished) FAILED; members not started lose their leases and run again."""
    store = worker_side.process_store()
    leases_ = [worker_side.payload_lease(payload) for payload in payloads]
    started = store.started_by([lease.step_id for lease in leases_])
    holders = store.holders([lease.step_id for lease in leases_])
    for lease, token, holder in zip(leases_, started, holders):
        if token == lease.token and holder == lease.token:
            worker_side.crash_failure_lease(store, lease, reason)
