"""Stopping a step that the web UI cancelled, inside the process that runs it.

The web calls ``store.request_cancel(step_id)``; the lease keeper thread of the process
running the step sees the flag (``store.cancel_requested``) and calls ``interrupt()``,
which sends this process ``INTERRUPT_SIGNAL``. Python runs signal handlers in the main
thread, where Celery's pool process runs the step, so the handler raises
``StepCancelled`` right in the step's code, even inside ``time.sleep`` or a wait on a
subprocess. A step that swallows it, or sits in C code that never returns to Python, is
stopped harder by the lease keeper after ``GRACE_S`` (see ``worker_side.LeaseKeeper``).
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

from trunq.execution.execute import CANCEL_REASON

__all__ = ["CANCEL_REASON", "GRACE_S", "INTERRUPT_SIGNAL", "Interruption", "StepCancelled"]

INTERRUPT_SIGNAL = signal.SIGUSR2  # billiard uses SIGUSR1 for soft time limits
GRACE_S = 5.0  # how long an interrupted step may take to give up before it is killed


class StepCancelled(BaseException):
    """Raised in the running step. A BaseException, so that ``except Exception`` in a
    step's own code does not swallow it."""


_active: Interruption | None = None
_handler_pid = -1


def _on_signal(signum: int, frame: FrameType | None) -> None:
    interruption = _active
    if interruption is not None and interruption.fire():
        raise StepCancelled(CANCEL_REASON)


def _install_handler() -> bool:
    """Install the handler once per process; only the main thread may do it."""
    global _handler_pid
    if _handler_pid == os.getpid():
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(INTERRUPT_SIGNAL, _on_signal)
    _handler_pid = os.getpid()
    return True


class Interruption:
    """``with Interruption() as it:`` marks the code that ``it.interrupt()`` (called from
    another thread) may stop by raising ``StepCancelled`` in this thread.

    Interrupting is possible only when the block runs in the main thread (Celery's prefork
    and solo pools); elsewhere ``interrupt()`` returns False and does nothing.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed = False
        self._requested = False

    def __enter__(self) -> Interruption:
        global _active
        if _install_handler():
            with self._lock:
                self._armed = True
            _active = self
        return self

    def __exit__(self, *exc_info: Any) -> None:
        global _active
        with self._lock:
            self._armed = False
        if _active is self:
            _active = None

    def interrupt(self) -> bool:
        """Ask the block to stop; False when it cannot be interrupted (or has ended)."""
        with self._lock:
            if not self._armed:
                return False
            self._requested = True
            os.kill(os.getpid(), INTERRUPT_SIGNAL)
            return True

    def fire(self) -> bool:
        """Called by the signal handler: True (once) when the block is to stop now."""
        if not self._requested or not self._armed:
            return False
        self._requested = False
        return True
