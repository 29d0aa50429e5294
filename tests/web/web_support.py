"""What the web tests share besides fixtures (a module of its own: ``conftest`` is a name
every test folder uses, so importing from it breaks when several folders run together)."""

from __future__ import annotations

import threading
from typing import Any

TOKEN = "test-token-123"
ACTIONS_ON = {"allow_actions": True, "token": TOKEN, "poll_ms": 300, "resources": {"db": 2}}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


class LiveServer:
    """The app served by werkzeug on a free loopback port, in a thread of this process."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
