"""``trunq tasklist status|run|retry DIR``: inspect and drive a TaskList directory."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from .. import procs
from ..cli.bad_input import BadInput
from .storage import is_tasklist_dir, looks_intact, task_uuids
from .supervisor import DIE_WITH_DRIVER
from .tasklist import TaskList


def _open(directory: str) -> TaskList:
    path = Path(directory)
    if not path.exists():
        raise BadInput(f"no such TaskList directory: {directory}")
    if not is_tasklist_dir(path):
        raise BadInput(f"{directory} is not a TaskList directory (it needs todo/, done/ and fail/)")
    return TaskList(path, exist_ok=True, pre_clean=False)


def _short(value: Any, width: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@click.group(name="tasklist")
def tasklist_group() -> None:
    """Inspect and run a TaskList directory (see `trunq.tasklist`)."""


@tasklist_group.command()
@click.argument("directory")
def status(directory: str) -> None:
    """Count todo, done and failed tasks and list the failures."""
    tasklist = _open(directory)
    counts = tasklist.status()
    damaged = [tasklist.paths(uuid).done for uuid in task_uuids(tasklist.directory / "done")
               if not looks_intact(tasklist.paths(uuid).done)]
    counts["done"] -= len(damaged)
    click.echo(" ".join(f"{state}={counts[state]}" for state in ("todo", "running", "done", "fail")))
    for task in tasklist.fail_tasks():
        click.echo(f"failed {task.uuid} {_describe_error(task.errorvalue)}")
    if damaged:
        raise click.ClickException(f"{len(damaged)} done task file(s) are damaged and not counted as done, "
                                   f"first {damaged[0]}: move them to todo/ to run those tasks again")


@tasklist_group.command()
@click.argument("directory")
@click.option("-n", "--nprocesses", default=4, show_default=True, type=click.IntRange(min=1),
              help="How many tasks run at once.")
@click.option("--autokill", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Kill a task's whole process group after this many seconds.")
@click.option("--print-errors", is_flag=True, help="Print each failure's traceback as it happens.")
def run(directory: str, nprocesses: int, autokill: float | None, print_errors: bool) -> None:
    """Run the remaining todo tasks; one line per finished task; exit 1 if any failed."""
    tasklist = _open(directory)
    # Task and result pickles refer to user modules by name, usually next to the caller.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    os.environ[DIE_WITH_DRIVER] = "1"  # a killed command takes its runners and tasks along
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        failures = _run(tasklist, nprocesses, autokill, print_errors)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        procs.kill_descendants()  # the unfinished tasks stay in todo/: a rerun runs them
        click.echo(f"trunq: error: interrupted by {signal.Signals(signum).name}: running tasks were stopped; "
                   "rerun to continue", err=True)
        raise SystemExit(128 + signum) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if failures:
        raise SystemExit(1)


def _run(tasklist: TaskList, nprocesses: int, autokill: float | None, print_errors: bool) -> int:
    failures = 0
    for task in tasklist.run(nprocesses=nprocesses, autokill=autokill, print_errors=print_errors):
        if task.errorvalue is None:
            click.echo(f"done {task.uuid} {_short(task.returnvalue)}")
        else:
            failures += 1
            click.echo(f"fail {task.uuid} {_describe_error(task.errorvalue)}")
    return failures


class _Interrupted(KeyboardInterrupt):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise _Interrupted(signum)


@tasklist_group.command()
@click.argument("directory")
def retry(directory: str) -> None:
    """Move every failed task back to todo/ so that the next run executes it again."""
    moved = _open(directory).retry_failed()
    click.echo(f"moved {moved} failed task(s) back to todo/")
