"""``trunq runs``, ``trunq logs RUN`` and ``trunq cancel RUN`` (imported lazily by trunq.cli)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from trunq.runs.control import cancel_run
from trunq.runs.record import TERMINAL, Run, RunNotFound, RunStatus, RunType, list_runs, load_run

_STATUSES = [status.value for status in RunStatus]
_TYPES = [kind.value for kind in RunType]


def _load_or_exit(name: str) -> Run:
    try:
        return load_run(name)
    except RunNotFound as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)  # a bad argument, as click's usage errors
    except (OSError, ValueError) as exc:
        click.echo(f"Error: run {name!r} has an unreadable record: {exc}", err=True)
        sys.exit(1)


@click.command("runs")
@click.option("--status", type=click.Choice(_STATUSES, case_sensitive=False), help="Only runs in this status.")
@click.option("--type", "run_type", type=click.Choice(_TYPES, case_sensitive=False), help="Only runs of this type.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Newest N runs.")
def runs_command(status: str | None, run_type: str | None, limit: int) -> None:
    """List recorded runs, newest first."""
    selected = list_runs(status=status.upper() if status else None,
                         run_type=run_type.upper() if run_type else None)[:limit]
    rows = [(r.name, r.status.value, r.run_type.value, _when(r), _duration(r)) for r in selected]
    header = ("NAME", "STATUS", "TYPE", "START", "DURATION")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _when(run: Run) -> str:
    return run.start_time.strftime("%Y-%m-%d %H:%M:%S") if run.start_time else "-"


def _duration(run: Run) -> str:
    seconds = run.duration
    return "-" if seconds is None else f"{seconds:.3f}s"


@click.command("logs")
@click.argument("run_name")
@click.option("--stderr", "show_stderr", is_flag=True, help="Show stderr instead of stdout.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing while the run is running.")
def logs_command(run_name: str, show_stderr: bool, follow: bool) -> None:
    """Show the stdout (or stderr) of a run."""
    run = _load_or_exit(run_name)
    path = run.stderr_path if show_stderr else run.stdout_path
    position = _print_from(path, 0)
    while follow and run.refresh().status not in TERMINAL:
        time.sleep(0.2)
        position = _print_from(path, position)
    if follow:
        _print_from(path, position)


def _print_from(path: Path, position: int) -> int:
    try:
        with open(path, "rb") as handle:
            handle.seek(position)
            chunk = handle.read()
    except FileNotFoundError:
        return position
    if chunk:
        sys.stdout.write(chunk.decode("utf-8", errors="replace"))
        sys.stdout.flush()
    return position + len(chunk)


@click.command("cancel")
@click.argument("run_name")
def cancel_command(run_name: str) -> None:
    """Kill a running run's whole process group and mark it CANCELLED."""
    run = _load_or_exit(run_name)
    if not cancel_run(run):
        click.echo(f"Error: run {run.name!r} is not running (status {run.status.value})", err=True)
        sys.exit(1)
    click.echo(f"cancelled {run.name}")
