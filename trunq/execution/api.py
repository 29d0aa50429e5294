"""``trunq.build()``, ``trunq.run()`` and ``trunq.submit()``: the ways in from Python."""

from __future__ import annotations

import inspect
import logging
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from trunq.config import get_config
from trunq.core.errors import AlreadyRunningError, UsageError
from trunq.execution.summary import TrunqRunResult

logger = logging.getLogger("trunq")

PARALLEL_SCHEDULING_THREADS = 8


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

    def create_worker(self, scheduler: Any, worker_processes: int, assistant: bool = False,
                      **options: Any) -> Any:
        """``options``: the Worker's keyword options (history, notifier, ...)."""
        from trunq.execution.loop import Worker

        return Worker(scheduler=scheduler, worker_processes=worker_processes, assistant=assistant, **options)


def build(steps: Iterable[Any], worker_scheduler_factory: Any = None, detailed_summary: bool = False,
          **env_params: Any) -> bool | TrunqRunResult:
    """Run ``steps`` and what they require.

    Keyword options: ``workers`` (default 1), ``local_scheduler`` (default: config
    ``[core] local_scheduler``, true), ``no_lock`` (default True), ``redis_url``,
    ``parallel_scheduling``, ``worker_force_multiprocessing``, ``worker_timeout``,
    ``worker_keep_alive``, ``worker_retry_external_tasks``.
    Returns True when nothing failed, or the ``TrunqRunResult`` with ``detailed_summary``.
    The execution summary goes to stderr, as luigi's ``build()`` logs it, unless ``log_level``
    (or ``[core] log_level``) is above INFO; with ``no_configure_logging`` it is logged at INFO
    on the ``trunq`` logger instead, for the program's own logging to place.
    """
    env_params.setdefault("no_lock", True)
    level = env_params.pop("log_level", None)
    own_logging = env_params.pop("no_configure_logging", None)
    result = schedule_and_run(list(steps), worker_scheduler_factory, env_params)
    _show_summary(result.summary_text, level, own_logging)
    return result if detailed_summary else result.scheduling_succeeded


def _show_summary(summary: str, level: str | None, own_logging: bool | None) -> None:
    config = get_config()
    if own_logging if own_logging is not None else config.getboolean("core", "no_configure_logging", False):
        logger.info("%s", summary)
        return
    name = str(level or config.get("core", "log_level") or "DEBUG").upper()  # luigi's default level
    if logging.getLevelName(name) in (logging.DEBUG, logging.INFO):
        print(summary, file=sys.stderr)


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
    if request.help:  # as luigi's run(): the help, then the program ends
        from trunq.execution.help import help_text

        print(help_text(request))
        raise SystemExit(0)
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


def schedule_and_run(steps: list[Any], factory: Any, env: dict[str, Any], build: Any = None,
                     driver_id: str | None = None) -> TrunqRunResult:
    """Run a build in this process. On a cluster it is a build record this process drives
    (``build``: an existing record to drive, e.g. one a worker adopts)."""
    config = get_config()
    local = env.get("local_scheduler")
    if local is None:
        local = config.getboolean("core", "local_scheduler", True)
    workers = int(env.get("workers") or config.getint("core", "workers", 1) or 1)
    if workers < 1:  # --workers is checked as it is parsed; this is [core] workers or workers=
        raise UsageError(f"workers must be at least 1, got {workers} ([core] workers)")
    factory = factory or DefaultFactory()
    lock = None
    if not env.get("no_lock", False):
        from trunq.execution.lock import BuildLock

        if env.get("take_lock"):
            raise UsageError("--take-lock is not supported: stop the running build instead "
                             "(SIGTERM or Ctrl-C releases its lock), or use --no-lock to run a second copy")
        lock = BuildLock.for_steps(steps, config, env.get("lock_pid_dir"))
        if not lock.acquire():
            holder = lock.holder()
            by = f" (pid {holder})" if holder else ""
            raise AlreadyRunningError(f"this build is already running{by}; use --no-lock to run it anyway")
    try:
        if local:
            scheduler = factory.create_local_scheduler()
        else:
            scheduler = factory.create_remote_scheduler(url=env.get("redis_url"))
        worker = _create_worker(factory, scheduler, workers, config)
        _apply_worker_options(worker, env, config)
        with worker:
            builds = getattr(scheduler.store, "builds", None) if scheduler.shared else None
            if builds is None:
                result = _run_loop(worker, steps)
            else:
                result = _drive(scheduler, worker, steps, env, build, driver_id)
        return result
    finally:
        if lock is not None:
            lock.release()


def _run_loop(worker: Any, steps: list[Any]) -> TrunqRunResult:
    added = [worker.add(step) for step in steps]
    ran = worker.run()
    return TrunqRunResult(worker, scheduling_succeeded=all(added) and ran)


def _drive(scheduler: Any, worker: Any, steps: list[Any], env: dict[str, Any], build: Any,
           driver_id: str | None) -> TrunqRunResult:
    """A cluster build: a record in the store, driven by this process under a lease."""
    from trunq.execution.builds import BuildDriver, new_driver_id, open_build
    from trunq.execution.dispatch import create_executor
    from trunq.execution.summary import exit_code

    if worker.executor is None:  # no worker alive: say so before a record exists
        worker.executor = create_executor(worker, scheduler)
    store, ttl_ms = scheduler.store, scheduler.lease_ms
    driver_id = driver_id or new_driver_id()
    record = build or open_build(store, steps, env, driver_id=driver_id, ttl_ms=ttl_ms)
    if env.get("announce_build") and sys.stderr.isatty():  # a terminal; `trunq builds` lists it anyway
        print(f"trunq: build {record.build_id} (it goes on if this process dies: "
              f"`trunq attach {record.build_id}` follows it)", file=sys.stderr, flush=True)
    with BuildDriver(store, record, worker, driver_id=driver_id, ttl_ms=ttl_ms) as driver:
        result = _run_loop(worker, steps)
        result.build_id = record.build_id
        driver.finish(result, exit_code(result))
    return result


def detach(steps: list[Any], env: dict[str, Any]) -> Any:
    """Queue a cluster build for the workers to drive and return its record at once."""
    from trunq.core.errors import NoWorkerAlive
    from trunq.execution.builds import open_build
    from trunq.scheduler import RemoteScheduler

    scheduler = RemoteScheduler(url=env.get("redis_url"))
    try:
        if not scheduler.store.live_workers():
            raise NoWorkerAlive("no trunq worker is running to drive a detached build: "
                                "start one with `celery -A trunq worker` (or `trunq worker`)")
        return open_build(scheduler.store, steps, env, detached=True)
    finally:
        scheduler.close()


def _create_worker(factory: Any, scheduler: Any, workers: int, config: Any) -> Any:
    """The build's Worker, its history log and notifier handed to its constructor."""
    history = None
    if getattr(scheduler, "record_step_history", False):
        from trunq.history.log import history_log_from_config

        history = history_log_from_config(config)
    from trunq.notifications import notifier_from_config

    notifier = notifier_from_config(config)
    if _takes_options(factory.create_worker):
        return factory.create_worker(scheduler=scheduler, worker_processes=workers, assistant=False,
                                     history=history, notifier=notifier)
    # A luigi-style factory knows only the three standard arguments.
    worker = factory.create_worker(scheduler=scheduler, worker_processes=workers, assistant=False)
    worker.history = worker.history if worker.history is not None else history
    worker.notifier = worker.notifier if worker.notifier is not None else notifier
    return worker


def _takes_options(create_worker: Any) -> bool:
    parameters = inspect.signature(create_worker).parameters.values()
    return any(p.kind is p.VAR_KEYWORD or p.name == "history" for p in parameters)


def _apply_worker_options(worker: Any, env: dict[str, Any], config: Any) -> None:
    if env.get("worker_force_multiprocessing") or config.getboolean("worker", "force_multiprocessing", False):
        worker.force_multiprocessing = True
    if env.get("parallel_scheduling") or config.getboolean("core", "parallel_scheduling", False):
        worker.resolver.use_threads(PARALLEL_SCHEDULING_THREADS)
    timeout = env.get("worker_timeout") or config.getfloat("worker", "timeout", None)
    if timeout:
        worker.default_timeout = float(timeout)
    if env.get("progress") is not None:
        worker.progress.enabled = bool(env["progress"])
    keep_alive = bool(env.get("worker_keep_alive")) or config.getboolean("worker", "keep_alive", False)
    retry_external = bool(env.get("worker_retry_external_tasks")) or \
        config.getboolean("worker", "retry_external_tasks", False)
    if (keep_alive or retry_external) and hasattr(worker, "set_luigi_options"):
        worker.set_luigi_options(keep_alive=keep_alive, retry_external_tasks=retry_external)


class BuildHandle:
    """A build running in the background (``trunq.submit``)."""

    def __init__(self, steps: list[Any], factory: Any, env: dict[str, Any]) -> None:
        self.steps = steps
        self.build_id: str | None = None  # a cluster build's record, there before this returns
        self._result: TrunqRunResult | None = None
        self._error: BaseException | None = None
        build, driver_id = (None, None) if env.get("local_scheduler") else _open_cluster_build(steps, env)
        if build is not None:
            self.build_id = build.build_id
        self._thread = threading.Thread(target=self._run, args=(factory, env, build, driver_id),
                                        name="trunq-submit", daemon=True)
        self._thread.start()

    def _run(self, factory: Any, env: dict[str, Any], build: Any, driver_id: str | None) -> None:
        try:
            self._result = schedule_and_run(self.steps, factory, env, build=build, driver_id=driver_id)
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


def _open_cluster_build(steps: list[Any], env: dict[str, Any]) -> tuple[Any, str]:
    """The record of a build this process is about to drive, with its lease already held."""
    from trunq.execution.builds import new_driver_id, open_build
    from trunq.scheduler.redis import connect_store
    from trunq.scheduler.schedulers import lease_ms_from

    store = connect_store(env.get("redis_url"))
    try:
        driver_id = new_driver_id()
        return open_build(store, steps, env, driver_id=driver_id, ttl_ms=lease_ms_from(get_config())), driver_id
    finally:
        store.close()


def submit(steps: Iterable[Any], worker_scheduler_factory: Any = None, **env_params: Any) -> BuildHandle:
    """Start a build on the worker pool and return at once with a handle to wait on.

    On a cluster the handle's ``build_id`` names the build's record; the build goes on when
    this process exits (a worker adopts it), and ``trunq attach ID`` follows it from anywhere."""
    env_params.setdefault("no_lock", True)
    env_params.setdefault("local_scheduler", False)
    return BuildHandle(list(steps), worker_scheduler_factory, env_params)
