"""Where tasks execute: the backend seam between ``TaskList.run()`` and the processes.

``TaskList.run()`` (the driver) owns the directory: it lists ``todo/``, writes claims, and
finalizes results. A backend only executes :class:`TaskJob` s and reports :class:`Outcome` s.
Its remote side must do what :func:`trunq.tasklist.supervisor.supervise` does:

1. start ``python -m trunq.tasklist <todo> <done> --fail-outfile <fail> --tasklist-dir <root>``
   (or an equivalent fork) in a **new session / process group**, stdout and stderr to the
   task's Run files (``runs/<uuid>/<uuid>.out|.err``), never to an undrained pipe;
2. after ``autokill`` seconds, ``killpg(SIGKILL)`` the group and publish ``fail/<uuid>.pkl``
   with an ``AutoKilled`` error; if the process dies without a result, publish ``fail/`` with
   ``WorkerDied``;
3. publish results atomically (tmp file + ``os.replace`` in the same directory) on the shared
   TaskList directory, and only then report the outcome.

``supervise(job, launch=exec_task)`` does all three; a Celery task can simply call it with
``TaskJob(**message)``.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import subprocess
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import IO, Any

from .runner import BOOT, SYS_PATH_ENV
from .storage import identity_alive, process_identity
from .supervisor import Outcome, TaskJob


class TaskBackend(ABC):
    """Executes jobs; the driver calls ``reserve`` → (writes the claim) → ``submit`` → ``wait``."""

    name = "abstract"

    @abstractmethod
    def open(self, nprocesses: int, session: str | None) -> None:
        """Get ready to run up to ``nprocesses`` jobs at once."""

    @abstractmethod
    def free_slots(self) -> int:
        """How many more jobs may be submitted right now."""

    @abstractmethod
    def reserve(self) -> dict:
        """Pick the executor of the next job; the record is stored in the job's claim file."""

    @abstractmethod
    def release(self, executor: dict) -> None:
        """Give back a reserved executor that will not get a job after all."""

    @abstractmethod
    def submit(self, job: TaskJob, executor: dict) -> None:
        """Start ``job`` on the reserved executor."""

    @abstractmethod
    def wait(self, timeout: float | None) -> list[Outcome]:
        """Outcomes of finished jobs (state ``"lost"`` when the executor vanished)."""

    @abstractmethod
    def executor_alive(self, executor: dict) -> bool:
        """Whether the executor named in an old claim may still publish a result."""

    @abstractmethod
    def close(self) -> None:
        """Stop accepting jobs; jobs in hand may finish in the background."""


@dataclass
class _Runner:
    process: subprocess.Popen
    identity: dict
    job: str | None = None
    buffer: bytes = field(default=b"")

    # The runner is started with stdin=PIPE and stdout=PIPE, so both pipes exist.
    @property
    def stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self.process.stdout is not None
        return self.process.stdout


class LocalBackend(TaskBackend):
    """A pool of warm runner processes, each forking one task process at a time."""

    name = "local"

    def __init__(self, log_path: str | os.PathLike[str] | None = None) -> None:
        # Runner-level messages (not task output, which has its own files) go to the logfile if any.
        self._stderr = open(log_path, "ab") if log_path is not None else None  # noqa: SIM115
        self._runners: list[_Runner] = []
        self._session: str | None = None
        self._selector = selectors.DefaultSelector()
        self._reserved: dict[int, _Runner] = {}

    def open(self, nprocesses: int, session: str | None) -> None:
        _reap_finished()
        self._session = session
        for _ in range(max(1, nprocesses)):
            self._start_runner()

    def _start_runner(self) -> _Runner:
        env = dict(os.environ)
        env[SYS_PATH_ENV] = json.dumps([entry or os.getcwd() for entry in sys.path])
        process = subprocess.Popen(
            [sys.executable, "-c", BOOT, self._session or ""],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
        )
        runner = _Runner(process, {"kind": "local", **process_identity(process.pid)})
        os.set_blocking(runner.stdout.fileno(), False)
        self._selector.register(runner.stdout, selectors.EVENT_READ, runner)
        self._runners.append(runner)
        return runner

    def free_slots(self) -> int:
        return sum(1 for runner in self._runners if runner.job is None and id(runner) not in self._reserved)

    def reserve(self) -> dict:
        runner = next(r for r in self._runners if r.job is None and id(r) not in self._reserved)
        self._reserved[id(runner)] = runner
        return runner.identity

    def release(self, executor: dict) -> None:
        for key, runner in list(self._reserved.items()):
            if runner.identity == executor:
                del self._reserved[key]

    def submit(self, job: TaskJob, executor: dict) -> None:
        runner = next(r for r in self._reserved.values() if r.identity == executor)
        del self._reserved[id(runner)]
        runner.job = job.uuid
        try:
            runner.stdin.write((json.dumps(job.to_dict()) + "\n").encode())
            runner.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the runner died; wait() sees its EOF and reports the job as lost

    def wait(self, timeout: float | None) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for key, _ in self._selector.select(timeout):
            outcomes.extend(self._read(key.data))
        return outcomes

    def _read(self, runner: _Runner) -> list[Outcome]:
        try:
            chunk = os.read(runner.stdout.fileno(), 65536)
        except BlockingIOError:
            return []
        if not chunk:
            return self._runner_died(runner)
        runner.buffer += chunk
        outcomes = []
        while b"\n" in runner.buffer:
            line, runner.buffer = runner.buffer.split(b"\n", 1)
            answer = json.loads(line)
            outcomes.append(Outcome(answer["uuid"], answer["state"], answer["reason"]))
            runner.job = None
        return outcomes

    def _runner_died(self, runner: _Runner) -> list[Outcome]:
        self._selector.unregister(runner.stdout)
        self._runners.remove(runner)
        runner.stdout.close()
        runner.process.wait()
        lost = [Outcome(runner.job, "lost", "the runner process died")] if runner.job else []
        self._start_runner()
        return lost

    def executor_alive(self, executor: dict) -> bool:
        return identity_alive(executor)

    def close(self) -> None:
        for runner in self._runners:
            try:
                runner.stdin.close()  # idle runners exit now, busy ones after their task
            except OSError:
                pass
        for runner in self._runners:
            self._selector.unregister(runner.stdout)
            runner.stdout.close()
            if runner.job is None:
                runner.process.wait()
            else:
                _FINISHING.append(runner.process)  # reaped later, see _reap_finished
        self._runners.clear()
        self._selector.close()
        if self._stderr is not None:
            self._stderr.close()
        _reap_finished()


# Runners that were still busy when their driver stopped: they finish their task in the
# background; keeping the Popen objects lets us reap them instead of leaving zombies.
_FINISHING: list[subprocess.Popen] = []


def _reap_finished() -> None:
    _FINISHING[:] = [process for process in _FINISHING if process.poll() is None]


def load_backend(name: str, **options: Any) -> TaskBackend:
    """``"local"`` or ``"celery"`` (the latter lives in ``trunq.tasks``, imported only when asked)."""
    if name == "local":
        return LocalBackend(**options)
    if name == "celery":
        try:
            module = importlib.import_module("trunq.tasks.tasklist_backend")
            backend_class = module.CeleryBackend
        except (ImportError, AttributeError) as exc:
            raise RuntimeError(
                "backend='celery' needs trunq.tasks.tasklist_backend.CeleryBackend, "
                f"which is not available: {exc}"
            ) from exc
        return backend_class(**options)
    raise ValueError(f"unknown TaskList backend {name!r}: use 'local' or 'celery'")
