"""The Celery app of trunq and its one generic task, ``trunq.execute_step``.

``celery -A trunq worker`` finds ``app`` through ``trunq/celery.py``, the one module-level
app (``make_celery()``); everything else asks ``celery_app()``, made on first use. Configuration:
``trunq.tasks.settings`` (defaults), then the module named by ``$CELERY_CONFIG_MODULE``
(default ``celeryconfig``) when importable. Workers publish heartbeats (with their
concurrency) to the trunq store, which is how clients know a worker is alive and how
many steps to keep in flight.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import signal
import sys
import threading
from typing import Any

from billiard.exceptions import TimeLimitExceeded, WorkerLostError
from celery import Celery, signals

from trunq.config import Configuration, get_config, resolve_redis_url
from trunq.tasks import chunks, redis_transport, supervisors, worker_side
from trunq.tasks.adopter import Adopter

logger = logging.getLogger("trunq.worker")

TASK_NAME = "trunq.execute_step"
CHUNK_TASK_NAME = "trunq.execute_chunk"  # several short steps in one message (tasks/chunks.py)
HEARTBEAT_INTERVAL_S = worker_side.HEARTBEAT_INTERVAL_S
HEARTBEAT_TTL_MS = worker_side.HEARTBEAT_TTL_MS
# A pool process that dies mid-step (a crash signal, os._exit, the OOM killer's SIGKILL) fails
# that step at once, with the reason: running it again would most likely die the same way.
# A whole worker that dies (machine lost, main process killed) reports nothing: once its
# heartbeat expires (HEARTBEAT_TTL_MS, whatever the lease length) its steps run again elsewhere.
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT})

redis_transport.install()  # a Redis restart must not stop the worker (see the module)


def make_celery(config: Configuration | None = None) -> Celery:
    """A Celery app: trunq's defaults, the cluster's Redis from ``config`` (``resolve_redis_url``),
    then the user's Celery config module, which wins."""
    made = Celery("trunq", set_as_current=False)
    made.config_from_object("trunq.tasks.settings")
    broker_url = resolve_redis_url(None, config)
    made.conf.update(broker_url=broker_url, result_backend=broker_url)
    overrides = _user_settings(os.environ.get("CELERY_CONFIG_MODULE", "celeryconfig"))
    if overrides:
        made.conf.update(overrides)
    made.task(name=TASK_NAME, ignore_result=True, acks_late=True)(execute_step)
    made.task(name=CHUNK_TASK_NAME, ignore_result=True, acks_late=True)(execute_chunk)
    supervisors.register(made)  # Runs and TaskList on the pool
    return made


_app: Celery | None = None
_app_lock = threading.Lock()


def celery_app() -> Celery:
    """This process's app, made from the active configuration on first use (not at import)."""
    global _app
    with _app_lock:
        if _app is None:
            _app = make_celery(get_config())
            _app.set_current()
        return _app


def _user_settings(module_name: str) -> dict[str, Any]:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name != module_name:  # the module exists but is broken: say so
            raise
        return {}
    return {name: value for name, value in vars(module).items() if name.islower() and not name.startswith("_")}


def execute_step(payload: dict[str, Any]) -> str:
    """Run one step dispatched by a trunq client (see ``trunq.execution.payload``)."""
    return worker_side.run_payload(payload)


def execute_chunk(payloads: list[dict[str, Any]]) -> list[str]:
    """Run the steps of one chunk, each with its own lease and finish (``tasks/chunks.py``)."""
    return chunks.run_chunk(payloads)


@signals.worker_init.connect
def _record_identity(sender: Any = None, **_: Any) -> None:
    """The worker's name and heartbeat id, before the pool forks: its steps record them."""
    worker_side.set_identity(str(getattr(sender, "hostname", None) or "celery"), os.getpid())


@signals.worker_init.connect
def _import_from_cwd(**_: Any) -> None:
    """Step modules next to where the worker was started import, as with ``python -m``."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


@signals.worker_process_init.connect
def _mark_pool_process(**_: Any) -> None:
    """A prefork pool process: the pool replaces it if a cancelled step must be killed; a
    step's output goes to its Run only (the process's streams are the worker log)."""
    from trunq.runs.capture import set_tee

    worker_side.replaceable_process = True
    set_tee(False)


# ---- worker heartbeats (main process of ``celery worker``) -------------------------------
class _Heartbeat:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.worker_id = ""
        self.info: dict[str, Any] = {}

    def run(self) -> None:
        while True:
            try:
                worker_side.process_store().heartbeat(self.worker_id, self.info, HEARTBEAT_TTL_MS)
            except Exception as exc:  # Redis away: keep trying, clients see no worker meanwhile
                logger.warning("trunq: heartbeat failed: %s", exc)
            if self.stop.wait(HEARTBEAT_INTERVAL_S):
                return


_heartbeat = _Heartbeat()


@signals.worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    controller = getattr(sender, "controller", None)
    hostname = getattr(sender, "hostname", None) or getattr(controller, "hostname", "celery")
    concurrency = int(getattr(controller, "concurrency", 0) or celery_app().conf.worker_concurrency or os.cpu_count() or 1)
    _heartbeat.worker_id = worker_side.set_identity(str(hostname), os.getpid())
    _heartbeat.info = {"kind": "celery", "hostname": hostname, "pid": os.getpid(), "concurrency": concurrency}
    threading.Thread(target=_heartbeat.run, name="trunq-heartbeat", daemon=True).start()


_adopter = Adopter(worker_side.process_store)


@signals.worker_ready.connect
def _start_adopter(**_: Any) -> None:
    """Drive the cluster builds whose client is gone (see ``trunq.tasks.adopter``)."""
    threading.Thread(target=_adopter.run, name="trunq-adopter", daemon=True).start()


@signals.worker_ready.connect
def _ctrl_c_stops_like_sigterm(sender: Any = None, **_: Any) -> None:
    """Ctrl-C (SIGINT) is the same warm shutdown as SIGTERM and, like it, exits 0: every trunq
    command that serves until stopped ends 0 when asked to stop (Celery's own SIGINT exits 1)."""
    from celery.apps.worker import install_worker_int_handler
    from celery.platforms import EX_OK

    worker = getattr(sender, "controller", None)
    if worker is None or threading.current_thread() is not threading.main_thread():
        return
    install_worker_int_handler(worker, exitcode=EX_OK)


@signals.worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    _adopter.stop.set()
    if not _heartbeat.worker_id:
        return
    _heartbeat.stop.set()
    try:  # expire at once, so clients stop counting this worker's slots
        worker_side.process_store().heartbeat(_heartbeat.worker_id, _heartbeat.info, 1)
    except Exception:
        pass


# ---- a pool process that crashed mid-step (reported in the main process) ------------------
@signals.task_failure.connect
def _on_task_failure(sender: Any = None, exception: BaseException | None = None, args: Any = None,
                     **_: Any) -> None:
    if getattr(sender, "name", None) not in (TASK_NAME, CHUNK_TASK_NAME) or not args:
        return
    if isinstance(exception, TimeLimitExceeded):  # the hard limit after worker_timeout
        reason = f"timed out after {exception.args[0] if exception.args else '?'}s and did not stop (worker_timeout)"
    elif isinstance(exception, WorkerLostError):
        reason = death_reason(str(exception))
    else:
        return
    try:
        reason = f"the worker process running the step died: {reason}"
        if sender.name == CHUNK_TASK_NAME:
            chunks.crash_failure(args[0], reason)
        else:
            worker_side.crash_failure(args[0], reason)
    except Exception as exc:
        logger.warning("trunq: could not record a crashed step: %s", exc)


def death_reason(worker_lost_message: str) -> str:
    """Billiard's 'Worker exited prematurely: ...' as a reason a user can act on."""
    signalled = re.search(r"signal (\d+) \((\w+)\)", worker_lost_message)
    if signalled is not None:
        number = int(signalled.group(1))
        if number in CRASH_SIGNALS:
            return signalled.group(0)
        if number == signal.SIGKILL:
            return f"killed by {signalled.group(0)}: out of memory? (the OOM killer sends SIGKILL)"
        return f"killed by {signalled.group(0)}"
    exited = re.search(r"exitcode (-?\d+)", worker_lost_message)
    if exited is not None:
        return f"exited with code {exited.group(1)} (os._exit or sys.exit in the step?)"
    return worker_lost_message.strip() or "unknown cause"

