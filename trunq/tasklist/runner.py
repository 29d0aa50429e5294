"""A long-lived runner process of the local backend.

It reads one JSON :class:`TaskJob` per line on stdin, supervises it (fork, new process group,
autokill) and answers one JSON :class:`Outcome` per line. Forking this warm process costs about
a millisecond, where a fresh interpreter per task costs tens. The runner never loads a task
itself, so every fork starts from the same clean state.

When the driver disappears (stdin closes), the runner finishes the task in hand, so its result
is still published, and exits.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback

from .. import procs
from . import supervisor
from .supervisor import TaskJob, supervise

SYS_PATH_ENV = "TRUNQ_TASKLIST_SYS_PATH"
BOOT = "from trunq.tasklist.runner import main; main()"


def _extend_sys_path() -> None:
    """Import user modules from wherever the driver could (its script folder, test dirs, ...)."""
    extra = json.loads(os.environ.get(SYS_PATH_ENV, "[]"))
    for entry in reversed(extra):
        if entry not in sys.path:
            sys.path.insert(1, entry)


def _load_session(path: str) -> str | None:
    """Load the driver's dill session once; on failure each task retries it (and fails visibly)."""
    try:
        import dill

        dill.load_session(path)
        return None
    except Exception:
        traceback.print_exc()
        return path


def main() -> None:
    # Replies go to a private copy of stdout; fd 1 then points at stderr so that anything the
    # runner (or an import) prints cannot corrupt the protocol.
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    supervisor.FDS_CLOSED_IN_TASK.append(reply.fileno())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the driver; it decides
    if os.environ.get(supervisor.DIE_WITH_DRIVER):
        procs.die_with_parent()
    _extend_sys_path()
    session_to_retry = _load_session(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else None
    for line in sys.stdin:
        job = TaskJob(**json.loads(line))
        if session_to_retry:
            job = TaskJob(job.root, job.uuid, job.autokill, job.print_errors, session_to_retry)
        try:
            answer = supervise(job).__dict__
        except Exception:
            answer = {"uuid": job.uuid, "state": "lost", "reason": traceback.format_exc()}
        try:
            reply.write(json.dumps(answer) + "\n")
        except BrokenPipeError:
            return  # the driver is gone; the result is on disk for the next run()
