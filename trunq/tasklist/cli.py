"""``trunq tasklist status|run|retry DIR``: inspect and drive a TaskList directory."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from trunq.cli.bad_input import BadInput
from trunq.procs import interrupt_on_sigterm, interrupt_signal

from .storage import is_tasklist_dir, looks_intact, task_uuids
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
    failures = 0
    try:
        with interrupt_on_sigterm():
            for task in tasklist.run(nprocesses=nprocesses, autokill=autokill, print_errors=print_errors):
                if task.errorvalue is None:
                    click.echo(f"done {task.uuid} {_short(task.returnvalue)}")
                else:
                    failures += 1
                    click.echo(f"fail {task.uuid} {_describe_error(task.errorvalue)}")
    except KeyboardInterrupt as exc:
        signum = interrupt_signal(exc)
        # Tasks run in their own sessions and finish on their own; the next run adopts them.
        click.echo(f"trunq: error: interrupted by {signal.Signals(signum).name}: tasks already running "
                   "finish on their own; rerun to collect them and run the rest", err=True)
        raise SystemExit(128 + signum) from None
    if failures:
        raise SystemExit(1)


@tasklist_group.command()
@click.argument("directory")
def retry(directory: str) -> None:
    """Move every failed task back to todo/ so that the next run executes it again."""
    moved = _open(directory).retry_failed()
    click.echo(f"moved {moved} failed task(s) back to todo/")
