"""The in-process state store: dictionaries under one lock, with an injectable clock."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from trunq.core.status import ACTIVE, Status
from trunq.scheduler.sorting import check_sort, record_key
from trunq.scheduler.state import MAX_CONVERSATION, Event, StepRecord
from trunq.scheduler.status_rules import LIVE_FIELDS, re_enabled_status, registered_status


class MemoryStateStore:
    """Implements ``StateStore`` for one process (the local scheduler, unit tests)."""

    def __init__(self, clock: Callable[[], float] = time.time, max_events: int = 100_000) -> None:
        self._clock = clock
        self._lock = threading.Condition()
        self._steps: dict[str, StepRecord] = {}
        self._leases: dict[str, tuple[str, float]] = {}  # step -> (token, expiry)
        self._fences: dict[str, int] = {}
        self._started: dict[str, str] = {}  # step -> token that started it
        self._units: dict[str, dict[str, tuple[int, float]]] = {}  # resource -> holder -> (units, expiry)
        self._events: deque[Event] = deque(maxlen=max_events)
        self._event_seq = itertools.count(1)
        self._failures: dict[str, list[float]] = {}
        self._disabled_until: dict[str, float] = {}
        self._workers: dict[str, tuple[dict[str, Any], float]] = {}
        self._inbox: dict[str, list[tuple[str, str]]] = {}
        self._said: dict[str, deque[tuple[str, str, float]]] = {}
        self._responses: dict[tuple[str, str], str] = {}
        self._message_seq = itertools.count(1)
        self._dependents: dict[str, set[str]] = {}  # dependency -> steps that need it
        self._cancels: dict[str, str] = {}  # step -> token of the execution asked to stop
        self._running: dict[str, set[str]] = {}  # worker id -> steps it started and still runs
        self._holder_steps: dict[str, list[str]] = {}  # resource holder -> the steps it holds for
        self._builds: Any = None

    def now(self) -> float:
        return self._clock()

    @property
    def builds(self) -> Any:
        """The build records and driver leases of this store (``trunq.scheduler.builds``)."""
        from trunq.scheduler.builds import MemoryBuildStore

        if self._builds is None:
            self._builds = MemoryBuildStore(self._clock)
        return self._builds

    # ---- step records ------------------------------------------------------------------
    def register(self, records: Sequence[StepRecord]) -> None:
        with self._lock:
            now = self._clock()
            for record in records:
                old = self._steps.get(record.step_id)
                leased = old is not None and (
                    self._lease_token(record.step_id, now) is not None
                    or self._may_take_back(record.step_id, self._started.get(record.step_id, "")))
                record.status = registered_status(old.status if old is not None else None, leased=leased,
                                                  disabled=self._is_disabled(record.step_id, now))
                if old is not None:
                    record.retries = old.retries
                    _keep_last_run(record, old, leased)
                self._index_dependents(record, old)
                record.updated = now
                self._steps[record.step_id] = record

    def _index_dependents(self, record: StepRecord, old: StepRecord | None) -> None:
        for dep in set(old.deps if old is not None else ()) - set(record.deps):
            needing = self._dependents.get(dep)
            if needing is not None:
                needing.discard(record.step_id)
        for dep in record.deps:
            self._dependents.setdefault(dep, set()).add(record.step_id)

    def sweep(self, older_than_s: float, limit: int = 500) -> int:
        with self._lock:
            now = self._clock()
            cutoff = now - older_than_s
            # A memory store lives as long as one local build: a plain pass is enough here.
            old = [r for r in self._steps.values() if r.updated <= cutoff][:limit]
            removed = 0
            for record in old:
                step_id = record.step_id
                if (self._lease_token(step_id, now) is not None or self._is_disabled(step_id, now)
                        or self._may_take_back(step_id, self._started.get(step_id, ""))):
                    continue
                for dep in record.deps:
                    needing = self._dependents.get(dep)
                    if needing is not None:
                        needing.discard(step_id)
                        if not needing:
                            del self._dependents[dep]
                if record.worker_id:
                    self._running.get(record.worker_id, set()).discard(step_id)
                for table in (self._steps, self._fences, self._started, self._failures,
                              self._disabled_until, self._inbox, self._said, self._cancels):
                    table.pop(step_id, None)
                removed += 1
            return removed

    def dependents(self, step_id: str) -> list[str]:
        with self._lock:
            return sorted(self._dependents.get(step_id, ()))

    def get(self, step_id: str) -> StepRecord | None:
        with self._lock:
            return self._steps.get(step_id)

    def get_many(self, step_ids: Sequence[str]) -> list[StepRecord | None]:
        with self._lock:
            return [self._steps.get(step_id) for step_id in step_ids]

    def update(self, step_id: str, **fields: Any) -> None:
        with self._lock:
            record = self._steps.get(step_id)
            if record is None:
                return
            for key, value in fields.items():
                setattr(record, key, value)
            record.updated = self._clock()

    def list_steps(self, *, status: str | None = None, family: str | None = None, search: str | None = None,
                   offset: int = 0, limit: int = 50, sort: str = "updated",
                   descending: bool = True) -> tuple[int, list[StepRecord]]:
        key = record_key(check_sort(sort))
        with self._lock:
            matches = [
                r for r in self._steps.values()
                if (status is None or r.status == status) and (family is None or r.family == family)
                and (not search or search.lower() in r.step_id.lower())
            ]
        matches.sort(key=key, reverse=descending)
        return len(matches), matches[offset:offset + limit]

    def status_counts(self, family: str | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._lock:
            for record in self._steps.values():
                if family is None or record.family == family:
                    counts[record.status] = counts.get(record.status, 0) + 1
        return counts

    def family_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._lock:
            for record in self._steps.values():
                counts[record.family] = counts.get(record.family, 0) + 1
        return counts

    # ---- leases ------------------------------------------------------------------------
    def _lease_token(self, step_id: str, now: float) -> str | None:
        lease = self._leases.get(step_id)
        if lease is None:
            return None
        if lease[1] <= now:
            del self._leases[step_id]
            return None
        return lease[0]

    def acquire(self, step_id: str, owner: str, ttl_ms: int, status: str = Status.RUNNING) -> str | None:
        with self._lock:
            now = self._clock()
            if self._lease_token(step_id, now) is not None:
                return None
            started = self._started.get(step_id)
            if started is not None and self._may_take_back(step_id, started):
                return None  # a live worker runs it; its lease only lapsed (see acquire.lua)
            fence = self._fences.get(step_id, 0) + 1
            self._fences[step_id] = fence
            token = f"{owner}:{fence}"
            self._leases[step_id] = (token, now + ttl_ms / 1000.0)
            record = self._steps.get(step_id)
            if record is not None:
                record.status = status
                record.updated = now
            return token

    def acquire_many(self, step_ids: Sequence[str], owner: str, ttl_ms: int,
                     status: str = Status.RUNNING) -> list[str | None]:
        return [self.acquire(step_id, owner, ttl_ms, status) for step_id in step_ids]

    def start(self, step_id: str, token: str, worker: str, *, pid: int | None = None,
              worker_id: str | None = None, others: Sequence[tuple[str, str]] = ()) -> bool:
        with self._lock:
            now = self._clock()
            if self._lease_token(step_id, now) != token or self._started.get(step_id) == token:
                return False
            for member_id, member_token in [(step_id, token), *others]:
                if self._lease_token(member_id, now) == member_token:
                    self._started[member_id] = member_token  # one start per token: a second delivery does nothing
                    self._mark_running(member_id, worker, pid, worker_id, now)
            return True

    def _mark_running(self, step_id: str, worker: str, pid: int | None, worker_id: str | None, now: float) -> None:
        record = self._steps.get(step_id)
        if record is None:
            return
        if record.worker_id and record.worker_id != worker_id:
            self._running.get(record.worker_id, set()).discard(step_id)
        record.worker, record.worker_pid, record.worker_id = worker, pid, worker_id
        record.started, record.finished, record.updated = now, None, now
        if worker_id:
            self._running.setdefault(worker_id, set()).add(step_id)

    def renew(self, step_id: str, token: str, ttl_ms: int) -> bool:
        with self._lock:
            now = self._clock()
            current = self._lease_token(step_id, now)
            if current is None and not self._may_take_back(step_id, token):
                return False
            if current is not None and current != token:
                return False
            self._leases[step_id] = (token, now + ttl_ms / 1000.0)
            return True

    def _may_take_back(self, step_id: str, token: str) -> bool:
        """A lapsed lease of a started, still running step of a live worker, nobody acquired
        since (see renew.lua)."""
        record = self._steps.get(step_id)
        return (self._is_current_execution(step_id, token) and record is not None
                and record.worker_id is not None and self._worker_alive(record.worker_id, self._clock()))

    def _is_current_execution(self, step_id: str, token: str) -> bool:
        """Started under its own fence, still running, its start marker not dropped as lost
        (the caller has checked that no lease was taken since)."""
        record = self._steps.get(step_id)
        return (self._started.get(step_id) == token and record is not None and record.status in ACTIVE
                and token.rsplit(":", 1)[-1] == str(self._fences.get(step_id)))

    def _finishes(self, step_id: str, token: str, now: float) -> bool:
        """The execution itself ends: its lease, or, once lapsed, nothing took the step over
        (its worker's heartbeat may have lapsed meanwhile, as finish.lua)."""
        current = self._lease_token(step_id, now)
        return current == token or (current is None and self._is_current_execution(step_id, token))

    def lost(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        with self._lock:
            now = self._clock()
            return [self._lost(step_id, token, now) for step_id, token in items]

    def _lost(self, step_id: str, token: str, now: float) -> bool:
        current = self._lease_token(step_id, now)
        started = self._started.get(step_id) == token
        record = self._steps.get(step_id)
        worker_id = record.worker_id if started and record is not None else None
        alive = None if worker_id is None else self._worker_alive(worker_id, now)
        if current == token:
            lost = started and alive is False
        elif current is not None:
            lost = True
        else:
            lost = not self._may_take_back(step_id, token)
        if lost:
            if current == token:
                del self._leases[step_id]
            if started:
                del self._started[step_id]
            if worker_id:
                self._running.get(worker_id, set()).discard(step_id)
        return lost

    def _worker_alive(self, worker_id: str, now: float) -> bool:
        beat = self._workers.get(worker_id)
        return beat is not None and beat[1] > now

    def running_steps(self, worker_id: str) -> list[str]:
        with self._lock:
            if not self._worker_alive(worker_id, self._clock()):
                self._running.pop(worker_id, None)
                return []
            index = self._running.get(worker_id, set())
            for step_id in list(index):
                record = self._steps.get(step_id)
                if record is None or record.status not in ACTIVE or record.worker_id != worker_id:
                    index.discard(step_id)
            return sorted(index)

    def holders(self, step_ids: Sequence[str]) -> list[str | None]:
        with self._lock:
            now = self._clock()
            return [self._lease_token(step_id, now) for step_id in step_ids]

    def started_by(self, step_ids: Sequence[str]) -> list[str | None]:
        with self._lock:
            return [self._started.get(step_id) for step_id in step_ids]

    def finish(self, items: Sequence[tuple[str, str]], status: str, *, expl: str | None = None,
               holder: str | None = None) -> list[bool]:
        with self._lock:
            now = self._clock()
            results = []
            for step_id, token in items:
                if not self._finishes(step_id, token, now):
                    results.append(False)
                    continue
                self._leases.pop(step_id, None)
                self._cancels.pop(step_id, None)
                record = self._steps.get(step_id)
                event: dict[str, Any] = {"status": status, "expl": expl, "token": token}
                if record is not None:
                    if record.worker_id:
                        self._running.get(record.worker_id, set()).discard(step_id)
                    if record.worker and self._started.get(step_id) == token:
                        event["worker"] = record.worker
                        if record.started is not None:
                            event["duration"] = max(now - record.started, 0.0)
                    record.status, record.expl, record.finished, record.updated = status, expl, now, now
                self._append("status", step_id, event)
                results.append(True)
            if holder is not None:
                self._release(holder, None)
            self._lock.notify_all()
            return results

    def finish_then_start(self, items: Sequence[tuple[str, str]], status: str, *, expl: str | None = None,
                          holder: str | None = None, step_id: str, token: str, worker: str,
                          pid: int | None = None, worker_id: str | None = None,
                          others: Sequence[tuple[str, str]] = ()) -> tuple[list[bool], bool]:
        finished = self.finish(items, status, expl=expl, holder=holder)
        return finished, self.start(step_id, token, worker, pid=pid, worker_id=worker_id, others=others)

    # ---- cancelling ---------------------------------------------------------------------
    def request_cancel(self, step_id: str, requested_by: str = "") -> bool:
        with self._lock:
            token = self._lease_token(step_id, self._clock())
            started = self._started.get(step_id)
            if token is None and started is not None and self._may_take_back(step_id, started):
                token = started  # a live worker's execution whose lease lapsed
            if token is None:
                return False
            self._cancels[step_id] = token
            self._append("cancel", step_id, {"requested_by": requested_by})
            self._lock.notify_all()
            return True

    def cancel_requested(self, step_id: str, token: str) -> bool:
        with self._lock:
            return self._cancels.get(step_id) == token

    # ---- resources ---------------------------------------------------------------------
    def _reap(self, resource: str, now: float) -> dict[str, tuple[int, float]]:
        holders = self._units.setdefault(resource, {})
        for name in [h for h, (_, expiry) in holders.items() if expiry <= now]:
            del holders[name]
        return holders

    def acquire_resources(self, holder: str, wants: dict[str, int], limits: dict[str, int], ttl_ms: int,
                          steps: Sequence[str] = ()) -> bool:
        with self._lock:
            now = self._clock()
            for resource, amount in wants.items():
                holders = self._reap(resource, now)
                used = sum(units for name, (units, _) in holders.items() if name != holder)
                if used + amount > limits.get(resource, 1):
                    return False
            expiry = now + ttl_ms / 1000.0
            for resource, amount in wants.items():
                if amount > 0:
                    self._units[resource][holder] = (amount, expiry)
            if steps:
                self._holder_steps[holder] = list(steps)
            return True

    def renew_resources(self, holder: str, ttl_ms: int) -> None:
        with self._lock:
            now = self._clock()
            expiry = now + ttl_ms / 1000.0
            for resource in self._units:
                holders = self._reap(resource, now)  # expired units stay lost
                if holder in holders:
                    holders[holder] = (holders[holder][0], expiry)

    def release_resources(self, holder: str, amounts: dict[str, int] | None = None) -> None:
        with self._lock:
            self._release(holder, amounts)

    def _release(self, holder: str, amounts: dict[str, int] | None) -> None:
        if amounts is None:
            self._holder_steps.pop(holder, None)
        for resource, holders in self._units.items():
            if holder not in holders:
                continue
            if amounts is None or resource not in amounts:
                if amounts is None:
                    del holders[holder]
                continue
            units, expiry = holders[holder]
            left = units - amounts[resource]
            if left > 0:
                holders[holder] = (left, expiry)
            else:
                del holders[holder]

    def resource_usage(self) -> dict[str, dict[str, int]]:
        with self._lock:
            now = self._clock()
            usage = {}
            for resource in list(self._units):
                holders = self._reap(resource, now)
                if holders:
                    usage[resource] = {name: units for name, (units, _) in holders.items()}
            return usage

    def holder_steps(self, holders: Sequence[str]) -> dict[str, list[str]]:
        with self._lock:
            return {holder: list(self._holder_steps[holder]) for holder in holders if holder in self._holder_steps}

    # ---- events ------------------------------------------------------------------------
    def _append(self, kind: str, step_id: str, data: dict[str, Any]) -> str:
        event = Event(f"{next(self._event_seq)}-0", kind, step_id, data)
        self._events.append(event)
        return event.id

    def publish(self, kind: str, step_id: str, data: dict[str, Any]) -> str:
        with self._lock:
            event_id = self._append(kind, step_id, data)
            self._lock.notify_all()
            return event_id

    def last_event_id(self) -> str:
        with self._lock:
            return self._events[-1].id if self._events else "0-0"

    def read_events(self, after: str, count: int = 1000, block_ms: int = 0) -> list[Event]:
        with self._lock:
            if after == "$":
                after = self._events[-1].id if self._events else "0-0"
            threshold = int(after.split("-")[0]) if after not in ("0", "") else 0
            found = self._after(threshold, count)
            if not found and block_ms > 0:
                self._lock.wait(block_ms / 1000.0)
                found = self._after(threshold, count)
            return found

    def _after(self, threshold: int, count: int) -> list[Event]:
        found: list[Event] = []
        for event in reversed(self._events):
            if int(event.id.split("-")[0]) <= threshold:
                break
            found.append(event)
        found.reverse()
        return found[:count]

    # ---- failures and disabling --------------------------------------------------------
    def record_failure(self, step_id: str, window_s: float) -> int:
        with self._lock:
            now = self._clock()
            recent = [t for t in self._failures.get(step_id, []) if t > now - window_s] + [now]
            self._failures[step_id] = recent
            record = self._steps.get(step_id)
            if record is not None:
                record.retries = len(recent)
            return len(recent)

    def _is_disabled(self, step_id: str, now: float) -> bool:
        until = self._disabled_until.get(step_id)
        return until is not None and until > now

    def disable(self, step_id: str, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            self._disabled_until[step_id] = now + seconds
            record = self._steps.get(step_id)
            if record is not None:
                record.status, record.updated = Status.DISABLED, now
            self._append("status", step_id, {"status": Status.DISABLED.value})

    def disabled(self, step_ids: Sequence[str]) -> list[bool]:
        with self._lock:
            now = self._clock()
            return [self._is_disabled(step_id, now) for step_id in step_ids]

    def re_enable(self, step_id: str) -> None:
        with self._lock:
            self._disabled_until.pop(step_id, None)
            self._failures.pop(step_id, None)
            record = self._steps.get(step_id)
            new_status = re_enabled_status(record.status) if record is not None else None
            if record is not None and new_status is not None:
                record.status, record.retries, record.updated = new_status, 0, self._clock()

    # ---- workers -----------------------------------------------------------------------
    def heartbeat(self, worker_id: str, info: dict[str, Any], ttl_ms: int) -> None:
        with self._lock:
            now = self._clock()
            self._workers[worker_id] = ({**info, "id": worker_id, "last_heartbeat": now}, now + ttl_ms / 1000.0)

    def heartbeat_age(self, worker_id: str) -> float | None:
        with self._lock:
            now = self._clock()
            beat = self._workers.get(worker_id)
            return None if beat is None or beat[1] <= now else now - beat[0]["last_heartbeat"]

    def live_workers(self) -> list[dict[str, Any]]:
        with self._lock:
            now = self._clock()
            return [info for info, expiry in self._workers.values() if expiry > now]

    # ---- messages ----------------------------------------------------------------------
    def send_message(self, step_id: str, content: str) -> str:
        with self._lock:
            message_id = str(next(self._message_seq))
            self._inbox.setdefault(step_id, []).append((message_id, content))
            said = self._said.setdefault(step_id, deque(maxlen=MAX_CONVERSATION))
            said.append((message_id, content, round(self._clock(), 3)))
            self._append("message", step_id, {"message_id": message_id, "content": content})
            self._lock.notify_all()
            return message_id

    def take_messages(self, step_id: str) -> list[tuple[str, str]]:
        with self._lock:
            return self._inbox.pop(step_id, [])

    def respond(self, step_id: str, message_id: str, response: str) -> None:
        with self._lock:
            self._responses[(step_id, message_id)] = response
            self._append("response", step_id, {"message_id": message_id, "response": response})
            self._lock.notify_all()

    def response(self, step_id: str, message_id: str) -> str | None:
        with self._lock:
            return self._responses.get((step_id, message_id))

    def conversation(self, step_id: str, limit: int = MAX_CONVERSATION) -> list[dict[str, Any]]:
        with self._lock:
            said = list(self._said.get(step_id, ()))[-limit:] if limit > 0 else []
            return [{"message_id": m, "content": c, "sent": t, "response": self._responses.get((step_id, m))}
                    for m, c, t in said]

    def close(self) -> None:
        return None


_DEFINITION_FIELDS = frozenset({"step_id", "family", "module", "params", "deps", "status", "priority",
                                "resources", "accepts_messages", "retries", "updated"})


def _keep_last_run(record: StepRecord, old: StepRecord, leased: bool) -> None:
    """Registration updates in place (as register.lua): the new record takes what the last
    run left unless it says otherwise; the live state of a run that is over is cleared."""
    for name in _RUN_FIELDS:
        if getattr(record, name) is None and not (name in LIVE_FIELDS and not leased):
            setattr(record, name, getattr(old, name))


_RUN_FIELDS = tuple(name for name in StepRecord.__dataclass_fields__ if name not in _DEFINITION_FIELDS)
