"""The ``[web]`` options of the visualizer, read once when the app is created."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class WebSettings:
    """What the app may do and how much it reads per request."""

    allow_actions: bool = False
    token: str | None = None
    redis_url: str = DEFAULT_REDIS_URL
    history_url: str | None = None
    poll_ms: int = 2000
    page_size_max: int = 200
    graph_max_nodes: int = 2000
    graph_collapse_above: int = 300
    dependents_max: int = 500
    tasklist_dirs: tuple[str, ...] = ()  # TaskList directories the UI may show (absolute paths)
    resource_limits: dict[str, int] = field(default_factory=dict)
    allowed_hosts: tuple[str, ...] = ()  # Host names besides loopback and the bound one (DNS rebinding)
    bind_host: str = "127.0.0.1"  # where ``trunq web`` listens; decides whether reads need the token
    max_content_length: int = 1024 * 1024

    @property
    def read_token_required(self) -> bool:
        """Bound beyond loopback with a token: every page and API call needs it."""
        from trunq.web.guard import is_loopback

        return bool(self.token) and not is_loopback(self.bind_host)

    @property
    def actions_enabled(self) -> bool:
        """Actions need both the switch and a token: an open switch without a token stays off."""
        return self.allow_actions and bool(self.token)


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def settings_from(config: Any = None) -> WebSettings:
    """Build settings from a mapping of ``[web]`` options, a trunq ``Configuration``, or the active one."""
    web, limits = _sections(config)
    redis_url = web.get("redis_url") or os.environ.get("TRUNQ_REDIS_URL") or DEFAULT_REDIS_URL
    return WebSettings(
        allow_actions=_flag(web.get("allow_actions", False)),
        token=str(web["token"]) if web.get("token") else None,
        redis_url=str(redis_url),
        history_url=web.get("history_url") or None,
        poll_ms=int(web.get("poll_ms", 2000)),
        page_size_max=int(web.get("page_size_max", 200)),
        graph_max_nodes=int(web.get("graph_max_nodes", 2000)),
        graph_collapse_above=int(web.get("graph_collapse_above", 300)),
        dependents_max=int(web.get("dependents_max", 500)),
        tasklist_dirs=_paths(web.get("tasklist_dirs")),
        resource_limits={name: int(units) for name, units in limits.items()},
        allowed_hosts=_names(web.get("allowed_hosts")),
        max_content_length=int(web.get("max_content_length", 1024 * 1024)),
    )


def _names(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    return tuple(str(item).strip().lower() for item in items if str(item).strip())


def _paths(value: Any) -> tuple[str, ...]:
    """A list, or a comma-separated string, of directories; kept as absolute paths."""
    if not value:
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(os.path.realpath(str(item).strip()) for item in items if str(item).strip())


def _sections(config: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    if isinstance(config, Mapping):
        return config, config.get("resources", {}) or {}
    if config is None:
        from trunq.config import get_config

        config = get_config()
    return config.section("web"), config.section("resources")
