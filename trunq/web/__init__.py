"""The visualizer: a Flask app reading trunq's state store, runs folder and history DB.

>>> app = create_app({"allow_actions": True, "token": "s3cret"}, store=MemoryStateStore())

Only this package imports Flask. Pages are server-rendered shells whose small scripts
(``static/``) poll the JSON API under ``/api/``; ``/metrics`` serves Prometheus text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from trunq.scheduler.state import StateStore
from trunq.web.context import WebContext
from trunq.web.settings import WebSettings, settings_from

__all__ = ["WebSettings", "create_app"]


def create_app(config: Any = None, *, store: StateStore | None = None, history: Any = None,
               runs_root: str | Path | None = None) -> Flask:
    """Build the app.

    ``config``: a mapping of ``[web]`` options (``allow_actions``, ``token``, ``redis_url``,
    ``poll_ms``, ...; a nested ``resources`` mapping gives resource limits), a trunq
    ``Configuration``, or None for the active configuration. ``store`` defaults to a
    ``RedisStateStore`` on ``redis_url``; ``history`` to ``History.from_url()``;
    ``runs_root`` to ``trunq.runs.runs_root()``.
    """
    from trunq.runs import runs_root as default_runs_root
    from trunq.web import api, api_actions, builds, guard, metrics, views

    settings = config if isinstance(config, WebSettings) else settings_from(config)
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    guard.install(app, settings)
    root = Path(runs_root) if runs_root is not None else default_runs_root()
    app.extensions["trunq"] = WebContext(settings=settings, runs_root=root.absolute(),
                                         store_instance=store, history_instance=history)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(api_actions.blueprint)
    app.register_blueprint(builds.blueprint)
    app.register_blueprint(metrics.blueprint)
    app.register_blueprint(views.blueprint)
    app.after_request(_security_headers)
    return app


def _security_headers(response: Any) -> Any:
    """No inline scripts and no framing: an escaping slip still cannot run injected code."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
