"""``trunq builds``, ``trunq attach``, ``trunq cancel-build``: cluster builds as records."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from trunq.core.errors import UsageError

FOLLOW_EVERY_S = 0.5


def _store(redis_url: str | None) -> Any:
    from trunq.scheduler.redis import connect_store

    return connect_store(redis_url)


def _record(store: Any, build_id: str) -> Any:
    record = store.builds.get(build_id)
    if record is None:
        raise UsageError(f"no build {build_id!r} in this store (`trunq builds` lists the recent ones)")
    return record


def _one_line(exc: Exception) -> None:
    from trunq.cli.build import error_line

    message, code = error_line(exc)
    if message is None:
        raise exc
    click.echo(f"trunq: error: {message}", err=True)
    sys.exit(code)


def _duration(record: Any) -> str:
    if record.started is None:
        return "-"
    seconds = (record.ended or time.time()) - record.started
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def _counts(record: Any) -> str:
    return ", ".join(f"{count} {name}" for name, count in sorted(record.counts.items())) or "-"


redis_option = click.option("--redis-url", default=None, metavar="URL",
                            help="The cluster's Redis (default $TRUNQ_REDIS_URL, [core] redis_url).")


@click.group("builds", invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@redis_option
@click.pass_context
def builds_group(ctx: click.Context, limit: int, redis_url: str | None) -> None:
    """List running and recent cluster builds; `trunq builds show ID` prints one."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        records = _store(redis_url).builds.recent(limit)
    except Exception as exc:
        _one_line(exc)
    if not records:
        click.echo("no builds yet")
        return
    click.echo(f"{'BUILD':<24} {'STATUS':<10} {'STARTED BY':<28} {'TIME':>7}  ROOTS / COUNTS")
    for record in records:
        who = f"{record.started_by.get('user')}@{record.started_by.get('host')}:{record.started_by.get('pid')}"
        roots = ", ".join(record.root_ids[:2]) + (" ..." if len(record.root_ids) > 2 else "")
        click.echo(f"{record.build_id:<24} {record.status:<10} {who[:28]:<28} {_duration(record):>7}  {roots}")
        click.echo(f"{'':<24} {'':<10} {'':<28} {'':>7}  {_counts(record)}")


@builds_group.command("show")
@click.argument("build_id")
@redis_option
def show_command(build_id: str, redis_url: str | None) -> None:
    """Print a build's summary (or its counts so far while it runs)."""
    try:
        record = _record(_store(redis_url), build_id)
    except Exception as exc:
        _one_line(exc)
    click.echo(describe(record))


def describe(record: Any) -> str:
    who = record.started_by
    lines = [f"build {record.build_id}: {record.status}",
             f"  started by {who.get('user')}@{who.get('host')} (pid {who.get('pid')})"
             + (", detached" if record.detached else ""),
             f"  roots: {', '.join(record.root_ids)}",
             f"  driver: {record.driver or '-'}" + (f" (adopted {record.adoptions}x)" if record.adoptions else ""),
             f"  time: {_duration(record)}", f"  counts: {_counts(record)}"]
    if record.summary:
        lines += ["", record.summary]
    return "\n".join(lines)


@click.command("attach")
@click.argument("build_id")
@click.option("--timeout", default=None, type=float, help="Give up after this many seconds (exit 4).")
@redis_option
def attach_command(build_id: str, timeout: float | None, redis_url: str | None) -> None:
    """Follow a cluster build until it ends; exit with its status."""
    try:
        store = _store(redis_url)
        record = _record(store, build_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        shown = None
        while not record.is_ended:
            line = f"build {build_id}: {record.status}, {_counts(record)}"
            if line != shown:
                click.echo(line, err=True)
                shown = line
            if deadline is not None and time.monotonic() >= deadline:
                click.echo(f"trunq: build {build_id} is still running", err=True)
                sys.exit(4)
            time.sleep(FOLLOW_EVERY_S)
            record = _record(store, build_id)
    except Exception as exc:
        _one_line(exc)
    click.echo(record.summary or describe(record))
    sys.exit(record.exit_code if record.exit_code is not None else 1)


@click.command("cancel-build")
@click.argument("build_id")
@redis_option
def cancel_build_command(build_id: str, redis_url: str | None) -> None:
    """Stop a cluster build: nothing new starts, running steps are asked to stop."""
    try:
        store = _store(redis_url)
        record = _record(store, build_id)
        if record.is_ended:
            click.echo(f"build {build_id} has already ended ({record.status})")
            return
        store.builds.request_cancel(build_id)
    except Exception as exc:
        _one_line(exc)
    click.echo(f"cancel requested for build {build_id}; `trunq attach {build_id}` shows when it has stopped")
