"""``trunq gc``: forget the step records past retention now (workers do it once a minute)."""

from __future__ import annotations

import click


@click.command("gc")
@click.option("--older-than", "older_than", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Forget steps not updated for this long "
                                      "(default [core] step_retention_seconds, 7 days).")
@click.option("--redis-url", default=None, help="The Redis of the cluster (default $TRUNQ_REDIS_URL).")
def gc_command(older_than: float | None, redis_url: str | None) -> None:
    """Remove the step records (and their keys) nobody touched for the retention time."""
    from trunq.cli.builds import _one_line
    from trunq.config import get_config
    from trunq.scheduler.redis import connect_store
    from trunq.scheduler.schedulers import step_retention_from, sweep_steps

    try:
        retention = older_than if older_than is not None else step_retention_from(get_config())
        store = connect_store(redis_url)
        removed = sweep_steps(store, retention, max_batches=1_000_000)
    except Exception as exc:
        _one_line(exc)
        return
    click.echo(f"forgot {removed} step record{'s' if removed != 1 else ''} older than {retention:g} s")
