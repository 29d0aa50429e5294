"""Chunks: several short steps in one Celery message (issue 14).

Client side, ``ChunkSizer`` (``scheduler/chunking.py``) picks how many ready steps of one
family travel together; steps with a time limit are never chunked (Celery's limits apply to a
whole message).

Worker side, ``run_chunk`` keeps every member a separate job: its own lease, fencing token,
start-once and fenced finish event, run one after another; one member's finish and the next
member's start travel in one Redis round trip (``Leases.finish_then_start``). From the
moment the message arrives the worker renews all members' leases, so the client stops
renewing the whole chunk as soon as one member starts; if the worker dies, every member
that did not finish loses its lease and the client dispatches it again, step by step.
"""

from __future__ import annotations

from typing import Any

from trunq.execution.execute import step_session
from trunq.scheduler import leases
from trunq.tasks import worker_side

CHUNK_PREFIX = "chunk of "


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
    results: list[str] = []
    ended: worker_side.Ended | None = None  # the member that ran last, its finish not sent yet
    # one recording session: the members' Run lines are written in groups, not one write each
    with step_session():
        try:
            for key, payload in waiting:
                if keeper.untrack(key) == worker_side.LOST:
                    results.append("lost")  # another dispatch owns the step now; its start would be refused
                    continue
                lease = worker_side.payload_lease(payload)
                if ended is None:
                    started = leases.start(store, lease, worker)
                else:  # one round trip ends the last member and begins this one
                    finished, started = leases.finish_then_start(store, ended.lease, ended.status, ended.expl,
                                                                 ended.new_deps, lease, worker)
                    worker_side.warn_refused(ended, finished)
                    ended = None
                if not started:
                    results.append("stale")
                    continue
                outcome = worker_side.run_started(store, payload, lease)
                if isinstance(outcome, str):
                    results.append(outcome)
                else:
                    ended = outcome
                    results.append(outcome.status)
        finally:
            if ended is not None:
                worker_side.finish_ended(store, ended)
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
