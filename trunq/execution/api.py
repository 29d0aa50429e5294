"""``trunq.build()``, ``trunq.run()`` and ``trunq.submit()``: the ways in from Python."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from trunq.config import get_config
from trunq.core.errors import AlreadyRunningError
from trunq.execution.summary import TrunqRunResult

logger = logging.getLogger("trunq")


class DefaultFactory:
    """Makes the scheduler and the worker of a build; pass your own to ``build()``."""

    def create_local_scheduler(self) -> Any:
        from trunq.scheduler import Scheduler

        # Like luigi's embedded scheduler, local builds keep no history unless asked
        # ([history] record_local = true): opening the database costs ~0.5 s per build.
        local_history = get_config().getboolean("history", "record_local", False)
        return Scheduler(prune_on_get_work=True, record_step_history=local_history)

    def create_remote_scheduler(self, url: str | None = None) -> Any:
        from trunq.scheduler import RemoteScheduler

        return RemoteScheduler(url)

    def create_worker(self, scheduler: Any, worker_processes: int, assistant: bool = False) -> Any:
        from trunq.execution.loop import Worker

        return Worker(scheduler=scheduler, worker_processes=worker_processes, assistant=assistant)


def build(steps: Iterable[Any], worker_scheduler_factory: Any = None, detailed_summary: bool = False,
          **env_params: Any) -> bool | TrunqRunResult:
    """Run ``steps`` and what they require.

    Keyword options: ``workers`` (default 1), ``local_scheduler`` (default: config
    ``[core] local_scheduler``, true), ``no_lock`` (default True), ``redis_url``,
    ``parallel_scheduling``, ``worker_force_multiprocessing``, ``worker_timeout``.
    Returns True when nothing failed, or the ``TrunqRunResult`` with ``detailed_summary``.
    """
    env_params.setdefault("no_lock", True)
    result = schedule_and_run(list(steps), worker_scheduler_factory, env_params)
    return result if detailed_summary else result.scheduling_succeeded


def run(cmdline_args: Sequence[str] | None = None, main_task_cls: Any = None, worker_scheduler_factory: Any = None,
        local_scheduler: bool = False, detailed_summary: bool = False) -> bool | TrunqRunResult:
    """Like the ``trunq`` command line, from Python: ``trunq.run(["MyStep", "--x", "1"])``."""
    import sys

    from trunq.core import registry
    from trunq.execution.request import import_modules, parse_build_args

    args = list(sys.argv[1:] if cmdline_args is None else cmdline_args)
    if main_task_cls is not None:
        args = [main_task_cls.get_step_family(), *args]
    if local_scheduler and "--local-scheduler" not in args:
        args.append("--local-scheduler")
    request = parse_build_args(args)
    import_modules(request.modules)
    from trunq.config import config_overrides
    from trunq.config_compat import supported_only

    try:
        with config_overrides(supported_only(request.config)):
            result = schedule_and_run([request.make_step()], worker_scheduler_factory, request.env)
    finally:  # command-line values belong to this run only
        registry.cli_overrides.clear()
        registry.clear_instance_cache()
    print(result.summary_text)
    return result if detailed_summary else result.scheduling_succeeded


def schedule_and_run(steps: list[Any], factory: Any, env: dict[str, Any]) -> TrunqRunResult:
    config = get_config()
    local = env.get("local_scheduler")
    if local is None:
        local = config.getboolean("core", "local_scheduler", True)
    workers = int(env.get("workers") or config.getint("core", "workers", 1) or 1)
    factory = factory or DefaultFactory()
    lock = None
    if not env.get("no_lock", False):
        from trunq.execution.lock import BuildLock

        lock = BuildLock.for_steps(steps, config)
        if not lock.acquire():
            raise AlreadyRunningError(f"this build is already running (pid {lock.holder()}); "
                                      "use --no-lock to run it anyway")
    try:
        if local:
            scheduler = factory.create_local_scheduler()
        else:
            scheduler = factory.create_remote_scheduler(url=env.get("redis_url"))
        worker = factory.create_worker(scheduler=scheduler, worker_processes=workers, assistant=False)
        _apply_worker_options(worker, env, config)
        with worker:
            added = [worker.add(step) for step in steps]
            ran = worker.run()
            result = TrunqRunResult(worker, scheduling_succeeded=all(added) and ran)
        logger.info("%s", result.summary_text)
        return result
    finally:
        if lock is not None:
            lock.release()


def _apply_worker_options(worker: Any, env: dict[str, Any], config: Any) -> None:
    if env.get("worker_force_multiprocessing") or config.getboolean("worker", "force_multiprocessing", False):
        worker.force_multiprocessing = True
    timeout = env.get("worker_timeout") or config.getfloat("worker", "timeout", None)
    if timeout:
        worker.default_timeout = float(timeout)
    if env.get("progress") is not None:
        worker.progress.enabled = bool(env["progress"])
    if getattr(worker, "history", None) is None and getattr(worker.scheduler, "record_step_history", False):
        from trunq.history.log import history_log_from_config

        worker.history = history_log_from_config(config)
    if getattr(worker, "notifier", None) is None:
        from trunq.notifications import notifier_from_config

        worker.notifier = notifier_from_config(config)


class BuildHandle:
    """A build running in the background (``trunq.submit``)."""

    def __init__(self, steps: list[Any], factory: Any, env: dict[str, Any]) -> None:
        self.steps = steps
        self._result: TrunqRunResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(factory, env), name="trunq-submit", daemon=True)
        self._thread.start()

    def _run(self, factory: Any, env: dict[str, Any]) -> None:
        try:
            self._result = schedule_and_run(self.steps, factory, env)
        except BaseException as exc:  # handed to whoever waits
            self._error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds; True when the build has finished."""
        self._thread.join(timeout)
        return self.done()

    def status(self) -> str:
        if not self.done():
            return "running"
        if self._error is not None:
            return "error"
        assert self._result is not None
        return "succeeded" if self._result.scheduling_succeeded else "failed"

    def result(self, timeout: float | None = None) -> TrunqRunResult:
        if not self.wait(timeout):
            raise TimeoutError("the build is still running")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def submit(steps: Iterable[Any], worker_scheduler_factory: Any = None, **env_params: Any) -> BuildHandle:
    """Start a build on the worker pool and return at once with a handle to wait on."""
    env_params.setdefault("no_lock", True)
    env_params.setdefault("local_scheduler", False)
    return BuildHandle(list(steps), worker_scheduler_factory, env_params)
