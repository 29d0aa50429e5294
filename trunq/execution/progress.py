"""A one-line progress display on a terminal: steps done / total, failures."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None, interval: float = 0.25) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.interval = interval
        self.total = 0
        self.completed = 0
        self.failures = 0
        self._last = 0.0
        self._shown = False

    def done(self, count: int) -> None:
        self.completed += count
        self._maybe_show()

    def failed(self, count: int) -> None:
        self.failures += count
        self._maybe_show()

    def _maybe_show(self) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._show()

    def _show(self) -> None:
        failed = f", {self.failures} failed" if self.failures else ""
        self.stream.write(f"\r[trunq] {self.completed}/{self.total} steps done{failed}\x1b[K")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self.enabled and self._shown:
            self._show()
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
