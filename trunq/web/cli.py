"""``trunq web``: serve the visualizer (loopback only unless ``--host`` says otherwise)."""

from __future__ import annotations

import dataclasses

import click

from trunq.config import redact_url
from trunq.web.settings import settings_from


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the UI to the network.")
@click.option("--port", default=8082, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--redis-url", default=None, metavar="URL",
              help="Redis holding trunq's state (default [web] redis_url, $TRUNQ_REDIS_URL, or local).")
def web_command(host: str, port: int, redis_url: str | None) -> None:
    """Start the visualizer and message console."""
    from werkzeug.serving import make_server

    from trunq.scheduler.redis import RedisStateStore, StoreUnavailable
    from trunq.web import create_app

    settings = settings_from(None)
    if redis_url:
        settings = dataclasses.replace(settings, redis_url=redis_url)
    try:
        store = RedisStateStore(settings.redis_url)
        store.ping()
    except (StoreUnavailable, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    app = create_app(settings, store=store)
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    actions = "on" if settings.actions_enabled else "off"
    click.echo(f"trunq web: http://{host}:{server.server_port}/ (state: {redact_url(settings.redis_url)}, actions {actions})",
               err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
