"""Names of the events a Step class can register handlers for.

Handlers run in the process that executes the step (like luigi); exceptions raised by a
handler are logged and swallowed so a broken handler never fails a build.
"""

from __future__ import annotations


class Event:
    DEPENDENCY_DISCOVERED = "event.core.dependency.discovered"  # (step, dependency)
    DEPENDENCY_MISSING = "event.core.dependency.missing"  # (step,)
    DEPENDENCY_PRESENT = "event.core.dependency.present"  # (step,)
    BROKEN_STEP = "event.core.step.broken"  # (step, exception)
    START = "event.core.start"  # (step,)
    PROGRESS = "event.core.progress"  # user-triggered
    FAILURE = "event.core.failure"  # (step, exception)
    SUCCESS = "event.core.success"  # (step,)
    PROCESSING_TIME = "event.core.processing_time"  # (step, seconds)
    TIMEOUT = "event.core.timeout"  # (step, message)
    PROCESS_FAILURE = "event.core.process_failure"  # (step, message)
    BROKEN_TASK = BROKEN_STEP  # luigi spelling
