"""A reused pool of forked worker processes for ``--workers N`` on one machine.

Each worker process takes a chunk of steps (one or more) in one pipe message and runs them
in order, answering "done" for each as it finishes: short steps travel together, so the
parent pays one wake-up of a child per chunk instead of per step. A chunk may also carry a
chain: a lone step and the steps that wait only on it, each run only if the one before it
succeeded in this process (``Request.follows``). The parent waits on the
pipes and on the processes' sentinels together, so a worker that dies mid-step (segfault,
``os._exit``, the OOM killer) is noticed at once: the step it was running (the first of its
chunk without an answer) fails with the reason, the rest of the chunk goes to the fresh
worker that takes its place. ``worker_timeout`` kills a worker whose step runs too long (a
step with a time limit always travels alone).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from trunq import procs
from trunq.core import registry
from trunq.core.status import Status
from trunq.execution import lock
from trunq.execution.execute import FAILED, Outcome, execute_step, step_session

_CONTEXT = multiprocessing.get_context("fork")
_PR_SET_PDEATHSIG = 1
# The answer for a follower whose leader did not end DONE: PENDING with no new
# dependencies puts it back to wait, as if it had never been handed out.
NOT_RUN = "not run: the step before it in its chunk did not succeed"
PACE_AFTER = 16  # chain steps still queued in every busy process: poll() lets answers gather ...
PACE_S = 0.001  # ... this long (under the time those steps take at the least)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exit code {code}"


class _PipeReporter:
    """Forwards a running step's reports to the parent process."""

    def __init__(self, conn: Connection, job_id: int) -> None:
        self.conn = conn
        self.job_id = job_id

    def _send(self, kind: str, payload: Any) -> None:
        self.conn.send(("report", self.job_id, kind, payload))

    def status_message(self, step: Any, message: str) -> None:
        self._send("status_message", message)

    def progress(self, step: Any, percentage: float) -> None:
        self._send("progress", float(percentage))

    def tracking_url(self, step: Any, url: str) -> None:
        self._send("tracking_url", url)

    def decrease_resources(self, step: Any, amounts: dict[str, int]) -> None:
        self._send("decrease_resources", dict(amounts))

    def messages(self, step: Any) -> Any:
        import queue

        return queue.Queue()


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when the build process dies (even by SIGKILL)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the pipe's EOF (below) ends the loop instead


def _serve(conn: Connection, inherited: list[Connection], parent_pid: int) -> None:
    """The loop of one worker process."""
    _die_with_parent()
    if os.getppid() != parent_pid:
        return  # the parent died before the death signal was armed
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the build's own SIGTERM handler is not ours
    # Drop the parent's ends of every pipe and the build lock: held here, they would keep the
    # lock taken and hide the EOF that tells this process its parent is gone.
    for other in inherited:
        other.close()
    lock.close_inherited()
    with step_session():
        while True:
            try:
                chunk = conn.recv()
            except (EOFError, KeyboardInterrupt):
                return
            if chunk is None:
                return
            _run_chunk(conn, chunk)


def _run_chunk(conn: Connection, chunk: list[tuple[int, str, dict[str, str], bool]]) -> None:
    """Run a chunk's steps in order. A follower (it needs the step before it) runs only when
    that step ended DONE here; a chunk resent after a crash may start with one: not run."""
    previous_ok = False
    for job_id, key, params, follows in chunk:
        if follows and not previous_ok:
            conn.send(("done", job_id, Status.PENDING, NOT_RUN, [], None))
            continue
        began = time.monotonic()
        status, expl, new_deps = _execute(conn, job_id, key, params)
        previous_ok = status == Status.DONE
        conn.send(("done", job_id, status, expl, new_deps, time.monotonic() - began))


def _execute(conn: Connection, job_id: int, key: str, params: dict[str, str]) -> tuple[str, str | None, list[Any]]:
    """Run one step in a worker process: (status, explanation, new dependencies as class keys)."""
    try:
        step = registry.class_from_key(key).from_str_params(params)
        outcome = execute_step(step, _PipeReporter(conn, job_id))
    except Exception as exc:  # the step could not even be rebuilt here
        outcome = Outcome(FAILED, f"could not load step in worker process: {type(exc).__name__}: {exc}")
    new_deps = [(registry.class_key(type(dep)), dep.to_str_params(include_private=True)) for dep in outcome.new_deps]
    return outcome.status, outcome.expl, new_deps


class _Worker:
    def __init__(self, siblings: Sequence[_Worker] = ()) -> None:
        parent_end, child_end = _CONTEXT.Pipe()
        self.conn = parent_end
        inherited = [parent_end, *(sibling.conn for sibling in siblings)]
        self.process = _CONTEXT.Process(target=_serve, args=(child_end, inherited, os.getpid()), daemon=True)
        self.process.start()
        child_end.close()
        self.chunk: list[Request] = []  # sent and not answered yet; the first is running
        self.broken = False
        self.deadline: float | None = None
        self.timeout = 0.0

    @property
    def job(self) -> int | None:
        """The job this process is running now, if any."""
        return self.chunk[0].job_id if self.chunk else None

    def send(self, chunk: list[Request]) -> None:
        self.chunk = list(chunk)
        timeout = chunk[0].timeout if len(chunk) == 1 else None
        self.timeout = timeout or 0.0
        self.deadline = time.monotonic() + timeout if timeout else None
        self.conn.send([(request.job_id, registry.class_key(type(request.step)),
                         request.step.to_str_params(include_private=True), request.follows) for request in chunk])

    def stop(self, kill: bool = False) -> None:
        children: list[Any] = []
        if kill and self.process.is_alive():
            children = procs.descendants(self.process.pid or 0)  # a step's own subprocesses go too
            self.process.kill()  # SIGKILL
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()  # SIGKILL
            self.process.join()
        procs.terminate_all(children)
        self.conn.close()


@dataclass
class Request:
    """One step for a worker process: ``timeout`` is its worker_timeout (None: no limit);
    ``follows``: it needs the step before it in its chunk and runs only if that one succeeded."""

    job_id: int
    step: Any
    timeout: float | None = None
    follows: bool = False


class ProcessPool:
    """Runs steps in ``size`` long-lived forked processes."""

    def __init__(self, size: int, on_report: Callable[[int, str, Any], None],
                 on_timeout: Callable[[Any, str], None] | None = None) -> None:
        self.size = size
        self.on_report = on_report
        self.on_timeout = on_timeout
        self._workers: list[_Worker] = []
        self._busy = 0  # workers with a chunk

    def _ensure_started(self) -> None:
        while len(self._workers) < self.size:
            self._workers.append(_Worker(self._workers))

    @property
    def free_slots(self) -> int:
        """Processes with nothing to do: each takes one chunk."""
        return self.size - self._busy

    def submit(self, chunk: list[Request]) -> None:
        """Hand ``chunk`` to an idle process; it runs the steps in order."""
        self._ensure_started()
        next(w for w in self._workers if not w.chunk).send(chunk)
        self._busy += 1

    def poll(self, timeout: float | None) -> list[tuple[int, Outcome, list[tuple[str, dict[str, str]]]]]:
        """Wait up to ``timeout`` seconds; returns (job id, outcome, new deps as class keys)."""
        if not self._busy:
            return []
        busy = [w for w in self._workers if w.job is not None]
        timeout = self._until_next_deadline(busy, timeout)
        if timeout != 0 and all(len(w.chunk) >= PACE_AFTER and w.chunk[-1].follows for w in busy):
            # Only chains are left, each in one process, and this one waits: let answers
            # gather instead of waking for each (the wake-up slows the chain's process more
            # than its write). Elsewhere this process has answers to handle and steps to send.
            time.sleep(PACE_S if timeout is None else min(PACE_S, timeout))
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
        finished = []
        for worker in busy:
            if worker.conn in ready:
                finished.extend(self._drain(worker))
            if worker.job is not None and (worker.process.sentinel in ready or worker.broken):
                worker.process.join(timeout=1)
                finished.append(self._replace(worker, f"worker process died: {describe_exit(worker.process.exitcode)}"))
        now = time.monotonic()
        for worker in busy:
            if worker.job is not None and worker.deadline is not None and now >= worker.deadline:
                finished.append(self._replace(worker, f"timed out after {worker.timeout:g}s (worker_timeout)", timed_out=True))
        return finished

    @staticmethod
    def _until_next_deadline(busy: list[_Worker], timeout: float | None) -> float | None:
        deadlines = [w.deadline for w in busy if w.deadline is not None]
        if not deadlines:
            return timeout
        left = max(0.0, min(deadlines) - time.monotonic())
        return left if timeout is None else min(timeout, left)

    def _drain(self, worker: _Worker) -> list[tuple[int, Outcome, list[tuple[str, dict[str, str]]]]]:
        finished = []
        while worker.job is not None and worker.conn.poll():
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):  # the process is gone; poll() replaces it
                worker.broken = True
                break
            if message[0] == "report":
                self.on_report(message[1], message[2], message[3])
            else:
                _, job_id, status, expl, new_deps, seconds = message
                finished.append((job_id, Outcome(status, expl, duration=seconds), new_deps))
                worker.chunk.pop(0)
        if not worker.chunk:
            worker.deadline = None
            self._busy -= 1
        return finished

    def _replace(self, worker: _Worker, reason: str, timed_out: bool = False) -> tuple[int, Outcome, list[Any]]:
        """The step ``worker`` was running fails; a fresh process takes the rest of its chunk."""
        running, *not_started = worker.chunk
        worker.chunk = []
        worker.stop(kill=True)
        if not timed_out:
            reason = f"{reason} while running the step"
        others = [w for w in self._workers if w is not worker]
        fresh = self._workers[self._workers.index(worker)] = _Worker(others)
        if not_started:
            fresh.send(not_started)
        else:
            self._busy -= 1
        if self.on_timeout is not None and timed_out:
            self.on_timeout(running.step, reason)
        return running.job_id, Outcome(FAILED, reason), []

    def close(self) -> None:
        for worker in self._workers:
            worker.stop(kill=worker.job is not None)
        self._workers.clear()
        self._busy = 0
