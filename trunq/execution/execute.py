"""Executing one step: the part shared by every execution mode.

The same ``execute_step`` runs inline (one worker), in a pool process (``--workers N``)
and inside the Celery task on a remote worker. It re-checks the dependencies, fires the
events, records the execution as a Run, drives dynamic dependencies and turns the result
into an ``Outcome``.
"""

from __future__ import annotations

import queue
import time
import types
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from trunq.config import recording_enabled
from trunq.core.events import Event
from trunq.core.graph import flatten
from trunq.core.status import Status
from trunq.core.step import DynamicRequirements, Step
from trunq.scheduler.resolver import is_complete

DONE, FAILED, PENDING = Status.DONE, Status.FAILED, Status.PENDING
CANCEL_REASON = "cancelled from the web UI"  # a failure that is never retried
# A DONE whose step was found complete when its execution began: another build made it.
ALREADY_COMPLETE = "already complete when its turn came"


@dataclass
class Outcome:
    status: str  # DONE, FAILED, or PENDING (new dependencies were yielded)
    expl: str | None = None
    new_deps: list[Step] = field(default_factory=list)
    worker: str | None = None  # who ran it, when another process says (a Celery worker's name)
    duration: float | None = None  # how long it ran there (seconds)


class SchedulerMessage:
    """A message sent to a running step (``accepts_messages = True``)."""

    def __init__(self, message_id: str, content: str, respond: Callable[[str, str], None]) -> None:
        self.message_id = message_id
        self.content = content
        self._respond = respond

    def respond(self, response: Any) -> None:
        self._respond(self.message_id, str(response))

    def __repr__(self) -> str:
        return f"SchedulerMessage({self.content!r})"


class Reporter(Protocol):
    """Where a running step's reports go (``Step.set_status_message`` and friends)."""

    def status_message(self, step: Step, message: str) -> None: ...

    def progress(self, step: Step, percentage: float) -> None: ...

    def tracking_url(self, step: Step, url: str) -> None: ...

    def decrease_resources(self, step: Step, amounts: dict[str, int]) -> None: ...

    def messages(self, step: Step) -> queue.Queue[Any]: ...


class StoreReporter:
    """Reports of a running step written straight to a state store.

    ``on_decrease`` lets the local scheduler give resources back in its own accounting.
    """

    def __init__(self, store: Any, step_id: str, holder: str | None = None,
                 on_decrease: Callable[[dict[str, int]], None] | None = None) -> None:
        self.store = store
        self.step_id = step_id
        self.holder = holder
        self.on_decrease = on_decrease
        self._inbox: queue.Queue[SchedulerMessage] | None = None  # made on first use: most steps never look

    def status_message(self, step: Step, message: str) -> None:
        self.store.update(self.step_id, status_message=message)

    def progress(self, step: Step, percentage: float) -> None:
        self.store.update(self.step_id, progress=float(percentage))

    def tracking_url(self, step: Step, url: str) -> None:
        self.store.update(self.step_id, tracking_url=url)

    def decrease_resources(self, step: Step, amounts: dict[str, int]) -> None:
        if self.holder is not None:
            self.store.release_resources(self.holder, amounts)
        if self.on_decrease is not None:
            self.on_decrease(amounts)

    def messages(self, step: Step) -> queue.Queue[SchedulerMessage]:
        """The step's inbox, topped up from the store each time the step looks at it."""
        if self._inbox is None:
            self._inbox = queue.Queue()
        if step.accepts_messages:
            for message_id, content in self.store.take_messages(self.step_id):
                self._inbox.put(SchedulerMessage(message_id, content, self._respond))
        return self._inbox

    def _respond(self, message_id: str, response: str) -> None:
        self.store.respond(self.step_id, message_id, response)


_record_step: Callable[..., Any] | None = None


def _record(step: Step, deps: list[Step]) -> AbstractContextManager[Any]:
    """``trunq.runs.steps.record_step``, imported when recording is first switched on."""
    global _record_step
    if _record_step is None:
        if not recording_enabled():
            return nullcontext()
        from trunq.runs.steps import record_step

        _record_step = record_step
    return _record_step(step, deps)


def step_session() -> AbstractContextManager[Any]:
    """Around a loop executing many steps in this process: their recording is set up once."""
    if not recording_enabled():
        return nullcontext()
    from trunq.runs.steps import recording_session

    return recording_session()


def execute_step(step: Step, reporter: Reporter | None = None, *, check_deps: bool = True,
                 explain: Callable[[BaseException], str | None] | None = None) -> Outcome:
    """Run ``step.run()`` once and say how it went. Never raises for a step's own error.

    ``explain``: the executor's own one-line reason for an exception it raised into the step
    (a time limit), instead of the step's ``on_failure`` traceback."""
    if step.run is None:
        return check_external(step)
    step._reporter = reporter
    try:
        deps = step.deps()
        if check_deps:
            missing = [dep for dep in deps if not is_complete(dep)]
            if missing:
                names = ", ".join(repr(dep) for dep in missing[:5])
                return Outcome(FAILED, f"Unfulfilled dependencies at run time: {names}")
        step.trigger_event(Event.START, step)
        started = time.monotonic()
        with _record(step, deps):
            new_deps = _run(step)
        if new_deps:
            return Outcome(PENDING, new_deps=new_deps)
        step.trigger_event(Event.PROCESSING_TIME, step, time.monotonic() - started)  # luigi's order
        expl = step.on_success()
        step.trigger_event(Event.SUCCESS, step)
        return Outcome(DONE, None if expl is None else str(expl))
    except (Exception, SystemExit) as exc:  # sys.exit() in run() fails the step, not the build (luigi)
        reason = explain(exc) if explain is not None else None
        return Outcome(FAILED, reason) if reason is not None else _failure(step, exc)
    finally:
        step._reporter = None


EXTERNAL_MISSING = "Step is an external data dependency and data does not exist (yet?)."


def check_external(step: Step) -> Outcome:
    """An ExternalStep's turn (``[worker] retry_external_tasks``): done once its data exists."""
    try:
        complete = is_complete(step)
    except Exception as exc:
        return _failure(step, exc)
    return Outcome(DONE) if complete else Outcome(FAILED, EXTERNAL_MISSING)


def _failure(step: Step, exc: BaseException) -> Outcome:
    try:
        expl = step.on_failure(exc)
    except Exception as hook_error:  # a broken hook still leaves a readable reason
        expl = f"{type(exc).__name__}: {exc} (on_failure raised {hook_error!r})"
    step.trigger_event(Event.FAILURE, step, exc)
    return Outcome(FAILED, str(expl) if expl is not None else f"{type(exc).__name__}: {exc}")


def _run(step: Step) -> list[Step]:
    """Call run(); for a generator, feed back the outputs of complete yielded requirements.

    Returns the yielded requirements that are not complete yet (run() will be called again
    from the start once they are), or an empty list when run() finished.
    """
    result = step.run()
    if not isinstance(result, types.GeneratorType):  # what inspect.isgenerator checks
        return []
    reply = None
    while True:
        try:
            yielded = result.send(reply)
        except StopIteration:
            return []
        requirements = yielded if isinstance(yielded, DynamicRequirements) else DynamicRequirements(yielded)
        if not requirements.complete(is_complete):
            result.close()
            return [dep for dep in flatten(requirements.requirements) if not is_complete(dep)] or \
                list(requirements.flat_requirements)
        reply = requirements.paths
