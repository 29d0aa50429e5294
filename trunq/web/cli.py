"""``trunq web``: serve the visualizer with waitress (loopback only unless ``--host`` says otherwise)."""

from __future__ import annotations

import dataclasses
import signal
from typing import Any

import click

from trunq.config import redact_url
from trunq.web.settings import WebSettings, settings_from

MIN_TOKEN_CHARS = 16


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the UI to the network.")
@click.option("--port", default=8082, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--redis-url", default=None, metavar="URL",
              help="Redis holding trunq's state (default [web] redis_url, $TRUNQ_REDIS_URL, or local).")
@click.option("--allow-remote", is_flag=True,
              help="Serve a non-loopback --host without a [web] token (anyone who can reach it reads it).")
def web_command(host: str, port: int, redis_url: str | None, allow_remote: bool) -> None:
    """Start the visualizer and message console."""
    from waitress import create_server

    from trunq.scheduler.redis import RedisStateStore
    from trunq.web import create_app

    settings = _checked_settings(host, redis_url, allow_remote)
    try:
        store = RedisStateStore(settings.redis_url)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    app = create_app(settings, store=store)
    try:
        server: Any = create_server(app, host=host, port=port, threads=8, ident="trunq")
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    _serve(server, f"trunq web: http://{_url_host(host)}:{server.effective_port}/ "
                   f"(state: {redact_url(settings.redis_url)} {_redis_state(store)}, "
                   f"actions {'on' if settings.actions_enabled else 'off'}, "
                   f"reads {'need the token' if settings.read_token_required else 'open'})")
    store.close()


def _checked_settings(host: str, redis_url: str | None, allow_remote: bool) -> WebSettings:
    from trunq.web.guard import is_loopback

    settings = dataclasses.replace(settings_from(None), bind_host=host)
    if redis_url:
        settings = dataclasses.replace(settings, redis_url=redis_url)
    if settings.token is not None and len(settings.token) < MIN_TOKEN_CHARS:
        raise click.ClickException(f"[web] token is too short: use at least {MIN_TOKEN_CHARS} characters")
    if not is_loopback(host) and not settings.token and not allow_remote:
        raise click.ClickException(f"refusing to serve {host} without a [web] token: "
                                   "set one, or pass --allow-remote to expose the UI unauthenticated")
    return settings


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _redis_state(store: Any) -> str:
    """Whether Redis answers now: without it the UI still serves runs, history and TaskLists."""
    try:
        store.ping()
    except Exception:  # noqa: BLE001 - any failure means "not reachable now", never a crash
        return "unreachable: local views only, start Redis with `trunq server`"
    return "reachable"


def _serve(server: Any, ready_line: str) -> None:
    """Say ``ready_line``, then run until SIGINT or SIGTERM; let in-flight requests finish and
    close the socket. A signal that comes right after the line is a clean stop too."""
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        click.echo(ready_line, err=True)
        server.run()  # returns after shutting its threads down on KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
