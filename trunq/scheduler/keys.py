"""The Redis key layout of ``RedisStateStore``, in one place.

Every key starts with ``{<namespace>}`` (default ``{trunq}``): the braces make it a Redis
Cluster hash tag, so all keys of one trunq installation live in one slot and a Lua
script may touch any of them. Scripts receive the prefix as an argument and build the
same names with ``key(...)`` in ``lua/_common.lua``; keep the two in step.

===============================  ======  ====================================================
key (after the prefix)           type    content
===============================  ======  ====================================================
``:step:<step_id>``              HASH    the StepRecord, one field per attribute
                                         (params/deps/resources JSON; ``v`` = schema version)
``:lease:<step_id>``             STRING  ``"<owner>:<fence>"``, expires with ``SET PX``
``:fence:<step_id>``             STRING  the fencing counter (``INCR`` on every acquire)
``:started:<step_id>``           STRING  the token that started the step (one start per token)
``:idx:all``                     ZSET    step_id -> updated (ms): every step, newest last
``:idx:status:<STATUS>``         ZSET    the same, for one status
``:idx:family:<family>``         ZSET    the same, for one family
``:idx:fs:<STATUS>:<family>``    ZSET    the same, for one status of one family
``:count:status``                HASH    STATUS -> number of steps
``:count:family``                HASH    family -> number of steps
``:count:fs:<family>``           HASH    STATUS -> number of steps of that family
``:events``                      STREAM  fields kind, step, data (JSON); ``MAXLEN ~ 100000``
``:res:<resource>``              ZSET    ``"<holder>#<unit>"`` -> expiry (ms), one member per unit
``:resources``                   SET     resource names ever used (for ``resource_usage``)
``:held:<holder>``               HASH    resource -> units the holder has (its release list)
``:holder:<holder>``             STRING  JSON list of the step ids the holder took units for
``:failures:<step_id>``          ZSET    one member per failure -> time (ms)
``:disabled``                    ZSET    step_id -> disabled until (ms)
``:worker:<worker_id>``          HASH    info (JSON), last_heartbeat; expires (``PEXPIRE``)
``:workers``                     SET     worker ids (ids whose key expired are dropped on read)
``:running:<worker_id>``         SET     ids of the steps the worker started and still runs
``:inbox:<step_id>``             LIST    JSON ``[message_id, content]`` waiting for the step
``:responses:<step_id>``         HASH    message_id -> response
``:said:<step_id>``              LIST    JSON ``[message_id, content, sent_s]``: every message
                                         sent (the last ``MAX_CONVERSATION``), for the console
``:seq:<name>``                  STRING  counters for message ids and failure members
``:dependents:<step_id>``        SET     ids of the steps whose deps list this step
``:cancel:<step_id>``            STRING  token of the execution asked to stop (expires)
===============================  ======  ====================================================

Lifecycle: the per-step keys (``step``, ``fence``, ``started``, ``failures``, ``inbox``,
``responses``, ``said``, ``cancel``, the index entries and counts, membership of ``dependents`` and
``running``) are removed by ``lua/sweep.lua`` once the step is untouched for ``[core]
step_retention_seconds``; ``lease``, ``worker``, ``held``/``holder`` and ``cancel`` expire on
their own; ``events`` is capped. See docs/builds.md, "What Redis keeps".

Times stored in hashes are seconds (``"%.3f"``); ZSET scores are milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

STATUS_INDEX = "idx:status"
FAMILY_INDEX = "idx:family"
FAMILY_STATUS_INDEX = "idx:fs"


@dataclass(frozen=True)
class KeySpace:
    """Builds the key names of one namespace."""

    namespace: str = "trunq"

    @property
    def prefix(self) -> str:
        return "{" + self.namespace + "}"

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def step(self, step_id: str) -> str:
        return self.key("step", step_id)

    def lease(self, step_id: str) -> str:
        return self.key("lease", step_id)

    def fence(self, step_id: str) -> str:
        return self.key("fence", step_id)

    def started(self, step_id: str) -> str:
        return self.key("started", step_id)

    def index(self, status: str | None = None, family: str | None = None) -> str:
        """The sorted set listing the steps with this status and/or family."""
        if status is not None and family is not None:
            return self.key(FAMILY_STATUS_INDEX, status, family)
        if status is not None:
            return self.key(STATUS_INDEX, status)
        if family is not None:
            return self.key(FAMILY_INDEX, family)
        return self.key("idx", "all")

    def status_counts(self, family: str | None = None) -> str:
        return self.key("count", "fs", family) if family is not None else self.key("count", "status")

    @property
    def family_counts(self) -> str:
        return self.key("count", "family")

    @property
    def events(self) -> str:
        return self.key("events")

    def resource(self, name: str) -> str:
        return self.key("res", name)

    @property
    def resources(self) -> str:
        return self.key("resources")

    def held(self, holder: str) -> str:
        return self.key("held", holder)

    def holder(self, holder: str) -> str:
        return self.key("holder", holder)

    def running(self, worker_id: str) -> str:
        return self.key("running", worker_id)

    def failures(self, step_id: str) -> str:
        return self.key("failures", step_id)

    @property
    def disabled(self) -> str:
        return self.key("disabled")

    def worker(self, worker_id: str) -> str:
        return self.key("worker", worker_id)

    @property
    def workers(self) -> str:
        return self.key("workers")

    def inbox(self, step_id: str) -> str:
        return self.key("inbox", step_id)

    def responses(self, step_id: str) -> str:
        return self.key("responses", step_id)

    def said(self, step_id: str) -> str:
        return self.key("said", step_id)

    def sequence(self, name: str) -> str:
        return self.key("seq", name)

    def dependents(self, step_id: str) -> str:
        return self.key("dependents", step_id)

    def cancel(self, step_id: str) -> str:
        return self.key("cancel", step_id)
