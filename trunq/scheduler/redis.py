"""``StateStore`` over Redis: the shared state of the distributed mode.

Every operation that must be atomic is one Lua script (``lua/*.lua``, loaded once, each
prefixed with ``lua/_common.lua``); reads that need no atomicity are plain commands or
pipelines. The key layout is documented in ``keys.py``. Expiries use the Redis clock
(``TIME`` inside scripts), so clients with skewed clocks agree on who holds what.

This module and ``keys.py`` are the only places in trunq that know about Redis.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis

from trunq.config import get_config, redact_url, resolve_redis_url
from trunq.core.errors import StoreUnavailable
from trunq.core.status import Status, lua_constants
from trunq.scheduler.keys import KeySpace
from trunq.scheduler.sorting import check_sort, sorted_page, updated_page
from trunq.scheduler.state import MAX_CONVERSATION, SCHEMA_VERSION, Event, StepRecord
from trunq.scheduler.status_rules import LIVE_FIELDS, ON_RE_ENABLE, ON_REGISTER

EVENTS_MAXLEN = 100_000  # the stream is trimmed to about this many entries
REGISTER_CHUNK = 500  # records per register script call: keeps each call short
MAX_SEARCH_SCAN = 200_000  # step ids a search looks at, at most
CANCEL_FLAG_TTL_MS = 24 * 3600 * 1000  # a flag outlives any lease; tokens are never reused
_LUA_DIR = Path(__file__).with_name("lua")

_JSON_FIELDS = frozenset({"params", "deps", "resources"})
_INT_FIELDS = frozenset({"priority", "retries", "worker_pid"})
_FLOAT_FIELDS = frozenset({"progress", "updated", "started", "finished"})
_BOOL_FIELDS = frozenset({"accepts_messages"})


# ---- record encoding: StepRecord <-> hash fields ---------------------------------------
def encode_value(name: str, value: Any) -> str | None:
    """One record attribute as a hash field value (None: the field is absent)."""
    if value is None:
        return None
    if name in _JSON_FIELDS:
        return json.dumps(value, sort_keys=True)
    if name in _BOOL_FIELDS:
        return "1" if value else "0"
    if name in _FLOAT_FIELDS:
        return repr(float(value))
    return str(value)


def encode_record(record: StepRecord) -> dict[str, str]:
    fields = {"v": str(SCHEMA_VERSION)}
    for name, value in record.to_dict().items():
        encoded = encode_value(name, value)
        if encoded is not None:
            fields[name] = encoded
    return fields


def decode_record(fields: dict[str, str]) -> StepRecord:
    data: dict[str, Any] = {}
    for name, text in fields.items():
        if name in _JSON_FIELDS:
            data[name] = json.loads(text)
        elif name in _INT_FIELDS:
            data[name] = int(text)
        elif name in _FLOAT_FIELDS:
            data[name] = float(text)
        elif name in _BOOL_FIELDS:
            data[name] = text == "1"
        else:
            data[name] = text
    return StepRecord.from_dict(data)


CHAIN = "+"  # "finish+start": one script running those scripts in turn (see _script_source)


@cache
def _script_source(name: str) -> str:
    """A script's Lua: the prelude, then its body. A chained name ("finish+start") gives one
    script running each body in turn, atomically and in one call (``lua/_chain.lua``)."""
    prelude = lua_constants() + (_LUA_DIR / "_common.lua").read_text()
    names = name.split(CHAIN)
    if len(names) == 1:
        return prelude + "\n" + (_LUA_DIR / f"{name}.lua").read_text()
    bodies = [f"BODIES[{index}] = function(arg)\n{(_LUA_DIR / f'{part}.lua').read_text()}\nend"
              for index, part in enumerate(names, 1)]
    return "\n".join([prelude, "local BODIES = {}", *bodies, (_LUA_DIR / "_chain.lua").read_text()])


def _short_reason(exc: Exception) -> str:
    """'Error 111 connecting to host:port. Connection refused.' -> 'Connection refused'."""
    return str(exc).strip().rstrip(".").rsplit(". ", 1)[-1] or type(exc).__name__


def outage(url: str, exc: Exception) -> StoreUnavailable:
    """One line for a failed Redis call; never shows the password of ``url``."""
    where = redact_url(url)
    if isinstance(exc, redis.AuthenticationError):
        given = urlsplit(url).password is not None
        problem = "refused the password in the URL" if given else \
            "requires a password (put it in the URL: redis://:PASSWORD@host:port/0)"
        return StoreUnavailable(f"Redis at {where} {problem}: authentication failed")
    if out_of_memory(exc):
        return StoreUnavailable(f"Redis at {where} {OUT_OF_MEMORY}")
    return StoreUnavailable(f"cannot reach Redis at {where} ({_short_reason(exc)})")


OUT_OF_MEMORY = ("is out of memory (maxmemory reached) and refuses writes: free memory or raise maxmemory, "
                 "then rerun to continue")


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is Redis refusing a write at its ``maxmemory``."""
    return isinstance(exc, redis.exceptions.OutOfMemoryError)


# Worth retrying for the grace period: a lost connection, or a Redis at its maxmemory (policy
# noeviction) refusing writes until memory is freed (a refused Lua script changed nothing).
_PASSING_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.OutOfMemoryError)


_Method = TypeVar("_Method", bound=Callable[..., Any])
DEFAULT_GRACE_S = 15.0
logger = logging.getLogger("trunq")


def _reports_outage(method: _Method) -> _Method:
    """Ride out a short Redis outage, then turn it into ``StoreUnavailable``.

    A call that loses its connection is tried again, with growing pauses, for the store's
    ``grace_s`` (``[core] redis_grace_seconds``): a Redis restart or a network blip of a few
    seconds costs a pause, not the build. A refused password fails at once.
    """

    @functools.wraps(method)
    def wrapper(self: RedisStateStore, *args: Any, **kwargs: Any) -> Any:
        return self.with_grace(method, self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class RedisStateStore:
    """Implements ``StateStore`` over one Redis database.

    ``namespace`` separates installations sharing a database (it becomes the ``{hash tag}``
    of every key). ``clock`` (seconds) replaces the Redis clock for timestamps and for
    resource, failure-window and disable expiries; meant for tests. Lease and heartbeat
    expiry always follow Redis's own clock (``SET PX``).
    """

    def __init__(self, url: str, *, namespace: str = "trunq", clock: Callable[[], float] | None = None,
                 grace_s: float = 0.0) -> None:
        self.url = url
        self.grace_s = grace_s  # how long a call keeps retrying a lost connection
        self.outages = 0  # connections lost and ridden out: clients re-check what was in flight
        self._keys = KeySpace(namespace)
        self._builds: Any = None
        self._clock = clock
        # Any: with decode_responses=True every reply is str, which the client's types cannot express.
        self._redis: Any = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5)
        self._scripts: dict[str, Any] = {}

    # ---- plumbing ----------------------------------------------------------------------
    def with_grace(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``call(*args, **kwargs)``, retried while Redis is unreachable for up to ``grace_s``."""
        deadline, pause = None, 0.05
        while True:
            try:
                return call(*args, **kwargs)
            except redis.AuthenticationError as exc:
                raise outage(self.url, exc) from exc
            except _PASSING_ERRORS as exc:
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self.grace_s
                if now >= deadline:
                    raise outage(self.url, exc) from exc
                if pause == 0.05:
                    self.outages += 1
                    logger.warning("trunq: %s Redis at %s (%s); retrying for up to %.0fs",
                                   "writes refused by" if out_of_memory(exc) else "lost", redact_url(self.url), _short_reason(exc), self.grace_s)
                time.sleep(min(pause, deadline - now))
                pause = min(pause * 2, 1.0)

    def _script(self, name: str) -> Any:
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self._redis.register_script(_script_source(name))
        return script

    def _header(self) -> list[Any]:
        """The arguments every script takes first: the test clock (or ""), key prefix, events cap."""
        now_arg = "" if self._clock is None else str(int(self._clock() * 1000))
        return [now_arg, self._keys.prefix, EVENTS_MAXLEN]

    def _run(self, name: str, *args: Any) -> Any:
        return self._script(name)(keys=[self._keys.events], args=[*self._header(), *args])

    def _run_chained(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Each ``(script name, args)`` of ``calls`` in turn, in one atomic script call."""
        args: list[Any] = []
        for _, call_args in calls:
            args += [len(call_args), *call_args]
        return self._run(CHAIN.join(name for name, _ in calls), *args)

    def _run_many(self, name: str, calls: Sequence[Sequence[Any]]) -> list[Any]:
        """``_run(name, *args)`` for each ``args`` of ``calls``, in one round trip, by SHA (a
        script object in a pipeline would ask SCRIPT EXISTS first: a second round trip each
        time). A call that found its script gone (Redis restarted) is run again alone, which
        loads it; the calls that did run are not repeated."""
        sha, pipe = self._script(name).sha, self._redis.pipeline(transaction=False)
        for args in calls:
            pipe.evalsha(sha, 1, self._keys.events, *self._header(), *args)
        results = list(pipe.execute(raise_on_error=False))
        for index, (args, result) in enumerate(zip(calls, results)):
            if isinstance(result, redis.exceptions.NoScriptError):
                results[index] = self._run(name, *args)
            elif isinstance(result, Exception):
                raise result
        return results

    @property
    def builds(self) -> Any:
        """The build records and driver leases of this store (``trunq.scheduler.builds``)."""
        from trunq.scheduler.builds import RedisBuildStore

        if self._builds is None:
            self._builds = RedisBuildStore(self._redis, self._keys.prefix, call=self.with_grace)
        return self._builds

    @_reports_outage
    def ping(self) -> bool:
        return bool(self._redis.ping())

    @_reports_outage
    def now(self) -> float:
        if self._clock is not None:
            return self._clock()
        seconds, micros = self._redis.time()
        return seconds + micros / 1_000_000

    def close(self) -> None:
        self._redis.close()

    # ---- step records ------------------------------------------------------------------
    @_reports_outage
    def register(self, records: Sequence[StepRecord]) -> None:
        for start in range(0, len(records), REGISTER_CHUNK):
            chunk = records[start:start + REGISTER_CHUNK]
            payload = [{"step_id": r.step_id, "fields": encode_record(r)} for r in chunk]
            self._run("register", json.dumps(payload), json.dumps(ON_REGISTER), json.dumps(LIVE_FIELDS))

    @_reports_outage
    def get(self, step_id: str) -> StepRecord | None:
        fields = self._redis.hgetall(self._keys.step(step_id))
        return decode_record(fields) if fields else None

    @_reports_outage
    def get_many(self, step_ids: Sequence[str]) -> list[StepRecord | None]:
        pipe = self._redis.pipeline(transaction=False)
        for step_id in step_ids:
            pipe.hgetall(self._keys.step(step_id))
        return [decode_record(fields) if fields else None for fields in pipe.execute()]

    @_reports_outage
    def update(self, step_id: str, **fields: Any) -> None:
        encoded = {name: encode_value(name, value) for name, value in fields.items()}
        self._run("update", step_id, json.dumps(encoded))

    @_reports_outage
    def list_steps(self, *, status: str | None = None, family: str | None = None, search: str | None = None,
                   offset: int = 0, limit: int = 50, sort: str = "updated",
                   descending: bool = True) -> tuple[int, list[StepRecord]]:
        sort = check_sort(sort)
        if sort != "updated":
            keys = self._sort_groups(sort, status, family)
            total, ids = sorted_page(self._redis, keys, MAX_SEARCH_SCAN, needle=search,
                                     offset=offset, limit=limit, descending=descending)
        elif search:
            reply = self._run("search", self._keys.index(status, family), search, offset, limit,
                              MAX_SEARCH_SCAN, "desc" if descending else "asc")
            total, ids = int(reply[0]), reply[1:]
        else:
            total, ids = updated_page(self._redis, self._keys.index(status, family),
                                      offset=offset, limit=limit, descending=descending)
        return total, [record for record in self.get_many(ids) if record is not None]

    def _sort_groups(self, sort: str, status: str | None, family: str | None) -> list[str]:
        """The index sets whose concatenation (in this order) is the ``sort`` order's groups."""
        if sort == "status" and status is None:
            return [self._keys.index(s, family) for s in sorted(self.status_counts(family))]
        if sort == "family" and family is None:
            return [self._keys.index(status, f) for f in sorted(self.family_counts())]
        return [self._keys.index(status, family)]

    @_reports_outage
    def sweep(self, older_than_s: float, limit: int = 500) -> int:
        cutoff_ms = int((self.now() - older_than_s) * 1000)
        return int(self._run("sweep", cutoff_ms, limit)[0])

    @_reports_outage
    def status_counts(self, family: str | None = None) -> dict[str, int]:
        counts = self._redis.hgetall(self._keys.status_counts(family))
        return {status: int(n) for status, n in counts.items() if int(n) > 0}

    @_reports_outage
    def family_counts(self) -> dict[str, int]:
        counts = self._redis.hgetall(self._keys.family_counts)
        return {family: int(n) for family, n in counts.items() if int(n) > 0}

    @_reports_outage
    def dependents(self, step_id: str) -> list[str]:
        return sorted(self._redis.smembers(self._keys.dependents(step_id)))

    # ---- leases ------------------------------------------------------------------------
    @_reports_outage
    def acquire(self, step_id: str, owner: str, ttl_ms: int, status: str = Status.RUNNING) -> str | None:
        token = self._run("acquire", step_id, owner, int(ttl_ms), status)
        return token or None

    @_reports_outage
    def acquire_many(self, step_ids: Sequence[str], owner: str, ttl_ms: int,
                     status: str = Status.RUNNING) -> list[str | None]:
        tokens = self._run_many("acquire", [(step_id, owner, int(ttl_ms), status) for step_id in step_ids])
        return [token or None for token in tokens]

    @_reports_outage
    def start(self, step_id: str, token: str, worker: str, *, pid: int | None = None,
              worker_id: str | None = None, others: Sequence[tuple[str, str]] = ()) -> bool:
        return self._run("start", *_start_args(step_id, token, worker, pid, worker_id, others)) == 1

    @_reports_outage
    def renew(self, step_id: str, token: str, ttl_ms: int) -> bool:
        return self._run("renew", step_id, token, int(ttl_ms)) == 1

    @_reports_outage
    def lost(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        if not items:
            return []
        return [flag == 1 for flag in self._run("lost", json.dumps([[step_id, token] for step_id, token in items]))]

    @_reports_outage
    def running_steps(self, worker_id: str) -> list[str]:
        return list(json.loads(self._run("running", worker_id)))

    @_reports_outage
    def holders(self, step_ids: Sequence[str]) -> list[str | None]:
        if not step_ids:
            return []
        return list(self._redis.mget([self._keys.lease(step_id) for step_id in step_ids]))

    @_reports_outage
    def started_by(self, step_ids: Sequence[str]) -> list[str | None]:
        if not step_ids:
            return []
        return list(self._redis.mget([self._keys.started(step_id) for step_id in step_ids]))

    @_reports_outage
    def finish(self, items: Sequence[tuple[str, str]], status: str, *, expl: str | None = None,
               holder: str | None = None) -> list[bool]:
        results = self._run("finish", *_finish_args(items, status, expl, holder))
        return [flag == 1 for flag in results]

    @_reports_outage
    def finish_then_start(self, items: Sequence[tuple[str, str]], status: str, *, expl: str | None = None,
                          holder: str | None = None, step_id: str, token: str, worker: str,
                          pid: int | None = None, worker_id: str | None = None,
                          others: Sequence[tuple[str, str]] = ()) -> tuple[list[bool], bool]:
        finished, started = self._run_chained([
            ("finish", _finish_args(items, status, expl, holder)),
            ("start", _start_args(step_id, token, worker, pid, worker_id, others)),
        ])
        return [flag == 1 for flag in finished], started == 1

    # ---- cancelling ---------------------------------------------------------------------
    @_reports_outage
    def request_cancel(self, step_id: str, requested_by: str = "") -> bool:
        return self._run("request_cancel", step_id, requested_by, CANCEL_FLAG_TTL_MS) == 1

    @_reports_outage
    def cancel_requested(self, step_id: str, token: str) -> bool:
        return self._redis.get(self._keys.cancel(step_id)) == token

    # ---- counted resources -------------------------------------------------------------
    @_reports_outage
    def acquire_resources(self, holder: str, wants: dict[str, int], limits: dict[str, int], ttl_ms: int,
                          steps: Sequence[str] = ()) -> bool:
        reply = self._run("acquire_resources", holder, int(ttl_ms), json.dumps(wants or {}), json.dumps(limits or {}),
                          json.dumps(list(steps)) if steps else "")
        return reply == 1

    @_reports_outage
    def renew_resources(self, holder: str, ttl_ms: int) -> None:
        self._run("renew_resources", holder, int(ttl_ms))

    @_reports_outage
    def release_resources(self, holder: str, amounts: dict[str, int] | None = None) -> None:
        self._run("release_resources", holder, json.dumps(amounts))

    @_reports_outage
    def resource_usage(self) -> dict[str, dict[str, int]]:
        return json.loads(self._run("resource_usage"))

    @_reports_outage
    def holder_steps(self, holders: Sequence[str]) -> dict[str, list[str]]:
        names = list(holders)
        if not names:
            return {}
        found = self._redis.mget([self._keys.holder(holder) for holder in names])
        return {holder: list(json.loads(text)) for holder, text in zip(names, found) if text}

    # ---- events ------------------------------------------------------------------------
    @_reports_outage
    def publish(self, kind: str, step_id: str, data: dict[str, Any]) -> str:
        return self._run("publish", kind, step_id, json.dumps(data))

    @_reports_outage
    def read_events(self, after: str, count: int = 1000, block_ms: int = 0) -> list[Event]:
        stream_id = "0-0" if after in ("0", "") else after
        block = int(block_ms) if block_ms > 0 else None
        reply = self._redis.xread({self._keys.events: stream_id}, count=count, block=block)
        if not reply:
            return []
        _stream, entries = reply[0]
        return [Event(event_id, f["kind"], f["step"], json.loads(f["data"])) for event_id, f in entries]

    @_reports_outage
    def last_event_id(self) -> str:
        newest = self._redis.xrevrange(self._keys.events, count=1)
        return newest[0][0] if newest else "0-0"

    # ---- failures and disabling --------------------------------------------------------
    @_reports_outage
    def record_failure(self, step_id: str, window_s: float) -> int:
        return int(self._run("record_failure", step_id, int(window_s * 1000)))

    @_reports_outage
    def disable(self, step_id: str, seconds: float) -> None:
        self._run("disable", step_id, int(seconds * 1000))

    @_reports_outage
    def disabled(self, step_ids: Sequence[str]) -> list[bool]:
        if not step_ids:
            return []
        return [flag == 1 for flag in self._run("disabled", json.dumps(list(step_ids)))]

    @_reports_outage
    def re_enable(self, step_id: str) -> None:
        self._run("re_enable", step_id, *ON_RE_ENABLE)

    # ---- workers -----------------------------------------------------------------------
    @_reports_outage
    def heartbeat(self, worker_id: str, info: dict[str, Any], ttl_ms: int) -> None:
        self._run("heartbeat", worker_id, json.dumps(info or {}, default=str), int(ttl_ms))

    @_reports_outage
    def heartbeat_age(self, worker_id: str) -> float | None:
        last = self._redis.hget(self._keys.worker(worker_id), "last_heartbeat")
        return None if last is None else max(self.now() - float(last), 0.0)

    @_reports_outage
    def live_workers(self) -> list[dict[str, Any]]:
        worker_ids = sorted(self._redis.smembers(self._keys.workers))
        pipe = self._redis.pipeline(transaction=False)
        for worker_id in worker_ids:
            pipe.hgetall(self._keys.worker(worker_id))
        beats = pipe.execute() if worker_ids else []
        gone = [worker_id for worker_id, beat in zip(worker_ids, beats) if not beat]
        if gone:
            self._redis.srem(self._keys.workers, *gone)
        return [{**json.loads(beat["info"]), "id": worker_id, "last_heartbeat": float(beat["last_heartbeat"])}
                for worker_id, beat in zip(worker_ids, beats) if beat]

    # ---- messages ----------------------------------------------------------------------
    @_reports_outage
    def send_message(self, step_id: str, content: str) -> str:
        return str(self._run("send_message", step_id, content, MAX_CONVERSATION))

    @_reports_outage
    def conversation(self, step_id: str, limit: int = MAX_CONVERSATION) -> list[dict[str, Any]]:
        said = [json.loads(item) for item in self._redis.lrange(self._keys.said(step_id), -limit, -1)]
        answers = self._redis.hmget(self._keys.responses(step_id), [m[0] for m in said]) if said else []
        return [{"message_id": m, "content": c, "sent": float(t), "response": a}
                for (m, c, t), a in zip(said, answers, strict=True)]

    @_reports_outage
    def take_messages(self, step_id: str) -> list[tuple[str, str]]:
        pipe = self._redis.pipeline(transaction=True)
        pipe.lrange(self._keys.inbox(step_id), 0, -1)
        pipe.delete(self._keys.inbox(step_id))
        queued, _ = pipe.execute()
        return [tuple(json.loads(item)) for item in queued]

    @_reports_outage
    def respond(self, step_id: str, message_id: str, response: str) -> None:
        self._run("respond", step_id, message_id, response)

    @_reports_outage
    def response(self, step_id: str, message_id: str) -> str | None:
        return self._redis.hget(self._keys.responses(step_id), message_id)


def connect_store(url: str | None = None, config: Any = None) -> RedisStateStore:
    """The cluster's store (``resolve_redis_url``) once it answered PING, or ``StoreUnavailable``."""
    resolved = resolve_redis_url(url, config)
    grace = (config or get_config()).getfloat("core", "redis_grace_seconds", DEFAULT_GRACE_S)
    try:
        return connect(resolved, grace_s=DEFAULT_GRACE_S if grace is None else grace)
    except StoreUnavailable as exc:
        raise StoreUnavailable(f"{exc}; start Redis (e.g. `trunq server`) or set TRUNQ_REDIS_URL") from None


def connect(url: str, *, namespace: str = "trunq", grace_s: float = 0.0) -> RedisStateStore:
    """A store whose Redis answered PING (at once: no grace for a Redis that is not there);
    else ``StoreUnavailable`` with a one-line reason. Later calls retry for ``grace_s``."""
    try:
        store = RedisStateStore(url, namespace=namespace)
    except ValueError as exc:
        raise StoreUnavailable(f"invalid Redis URL {redact_url(url)!r} ({exc})") from None
    try:
        store.ping()
    except StoreUnavailable as exc:
        store.close()
        raise StoreUnavailable(str(exc)) from None
    store.grace_s = grace_s
    return store


def _start_args(step_id: str, token: str, worker: str, pid: int | None, worker_id: str | None,
                others: Sequence[tuple[str, str]]) -> list[Any]:
    others_json = json.dumps([[other_id, other_token] for other_id, other_token in others]) if others else ""
    return [step_id, token, worker, "" if pid is None else str(int(pid)), worker_id or "", others_json]


def _finish_args(items: Sequence[tuple[str, str]], status: str, expl: str | None, holder: str | None) -> list[Any]:
    return [json.dumps([[step_id, token] for step_id, token in items]), status, expl or "", holder or ""]
