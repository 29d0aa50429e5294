"""What every request needs: the store, the history DB, the runs root and the settings."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from trunq.scheduler.state import StateStore
from trunq.web.settings import WebSettings


@dataclass
class WebContext:
    settings: WebSettings
    runs_root: Path
    store_instance: StateStore | None = None
    history_instance: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def store(self) -> StateStore:
        """The state store; a Redis one is connected on first use so that the app starts without Redis."""
        with self._lock:
            if self.store_instance is None:
                from trunq.scheduler.redis import RedisStateStore

                self.store_instance = RedisStateStore(self.settings.redis_url)
            return self.store_instance

    @property
    def history(self) -> Any:
        """The history DB, opened on first use (only the history page needs it)."""
        with self._lock:
            if self.history_instance is None:
                from trunq.history import History

                self.history_instance = History.from_url(self.settings.history_url)
            return self.history_instance


def web_context() -> WebContext:
    return current_app.extensions["trunq"]
