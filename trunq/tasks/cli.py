"""``trunq worker`` (an alias of ``celery -A trunq worker``) and ``trunq message``."""

from __future__ import annotations

import sys
import time

import click

from trunq.core.errors import MessageError, StoreUnavailable
from trunq.core.status import ACTIVE

MESSAGE_POLL_S = 0.1


@click.command("worker", context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                           "help_option_names": []}, add_help_option=False)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker_command(celery_args: tuple[str, ...]) -> None:
    """Start a Celery worker for trunq steps; arguments go to `celery worker`."""
    from trunq.tasks.app import celery_app

    celery_app().worker_main(argv=["worker", *celery_args])


@click.command("message")
@click.argument("step_id")
@click.argument("text")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds to wait for the step's answer.")
@click.option("--redis-url", default=None, help="The Redis of the cluster (default $TRUNQ_REDIS_URL).")
def message_command(step_id: str, text: str, timeout: float, redis_url: str | None) -> None:
    """Send TEXT to the running step STEP_ID and print its answer."""
    try:
        answer = send_and_wait(step_id, text, timeout, redis_url)
    except (MessageError, StoreUnavailable) as exc:
        click.echo(f"trunq: error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, StoreUnavailable) else 1)  # no Redis: as `trunq build`
    click.echo(answer)




def send_and_wait(step_id: str, text: str, timeout: float, redis_url: str | None = None) -> str:
    """Queue ``text`` for a running step that accepts messages; its response, or MessageError."""
    from trunq.scheduler.redis import connect_store

    store = connect_store(redis_url)
    try:
        record = store.get(step_id)
        if record is None:
            raise MessageError(f"unknown step {step_id!r}")
        if not record.accepts_messages:
            raise MessageError(f"step {step_id} does not accept messages (accepts_messages = False)")
        if record.status not in ACTIVE:
            raise MessageError(f"step {step_id} is not running (status {record.status})")
        message_id = store.send_message(step_id, text)
        deadline = time.monotonic() + timeout
        while True:
            answer = store.response(step_id, message_id)
            if answer is not None:
                return answer
            if time.monotonic() >= deadline:
                raise MessageError(f"no answer from {step_id} within {timeout:g}s")
            time.sleep(MESSAGE_POLL_S)
    finally:
        store.close()
