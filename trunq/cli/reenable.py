"""``trunq reenable STEP_ID | --family F``: let disabled steps run again."""

from __future__ import annotations

import sys
from typing import Protocol

import click

from trunq.core.errors import TrunqError, UsageError
from trunq.core.status import Status
from trunq.scheduler.state import Failures, Records

_PAGE = 500


@click.command("reenable")
@click.argument("step_ids", nargs=-1)
@click.option("--family", default=None, help="Re-enable every disabled step of this family.")
@click.option("--redis-url", default=None, help="The Redis of the cluster (default $TRUNQ_REDIS_URL).")
def reenable_command(step_ids: tuple[str, ...], family: str | None, redis_url: str | None) -> None:
    """Re-enable the disabled steps STEP_ID... (or a whole --family) in the cluster's store."""
    from trunq.scheduler.redis import connect_store

    try:
        if not step_ids and not family:
            raise UsageError("name a STEP_ID or --family FAMILY to re-enable")
        store = connect_store(redis_url)
        done = reenable(store, list(step_ids), family)
    except TrunqError as exc:
        click.echo(f"trunq: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    for step_id in done:
        click.echo(f"re-enabled {step_id}")
    if not done:
        click.echo("no disabled steps matched")


class _Store(Records, Failures, Protocol):
    """The two concerns re-enabling touches."""


def reenable(store: _Store, step_ids: list[str], family: str | None) -> list[str]:
    """Re-enable the named steps and the disabled steps of ``family``; the ids re-enabled."""
    targets = list(step_ids)
    if family:
        offset = 0
        while True:
            total, records = store.list_steps(status=Status.DISABLED, family=family,
                                              offset=offset, limit=_PAGE)
            targets.extend(record.step_id for record in records)
            offset += _PAGE
            if offset >= total:
                break
    flags = store.disabled(targets)
    done = []
    for step_id, is_disabled in zip(targets, flags):
        if is_disabled:
            store.re_enable(step_id)
            done.append(step_id)
    return done
