"""Steps the builds-page tests queue (a module so the web process can rebuild them by reference)."""

from __future__ import annotations

import trunq


class WebRoot(trunq.Step):
    n = trunq.IntParameter(default=1)

    def complete(self) -> bool:
        return False
