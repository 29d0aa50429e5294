"""How many short steps travel together to a worker: one adaptive chunk size.

Both executors that hand steps to other processes use it: the local pool (``--workers N``,
``execution/dispatch.py``) and the Celery dispatcher (``tasks/dispatch.py``). A chunk starts
at one step and doubles while steps finish fast (under ``SHORT_STEP_S`` each, estimated from
the finish rate across the worker slots, every round of finishes), halving when they do not,
up to ``MAX_CHUNK``. Steps with a time limit or resources are never chunked: a limit applies
to one step, and a step waiting in a chunk must not hold a resource it is not using.
"""

from __future__ import annotations

import time
from typing import Any

SHORT_STEP_S = 0.05
MAX_CHUNK = 64
RATE_WINDOW_S = 0.5
MIN_SAMPLE = 4


class ChunkSizer:
    """The adaptive chunk size, from the finish rate of recent steps."""

    def __init__(self, max_chunk: int = MAX_CHUNK, start: int = 1) -> None:
        self.max_chunk = max(1, int(max_chunk))
        self.size = max(1, min(self.max_chunk, int(start)))
        self._since = time.monotonic()
        self._count = 0

    def finished(self, slots: int, now: float | None = None) -> None:
        """One step finished. Once a round of finishes (a chunk per slot, at least
        ``MIN_SAMPLE``) has come in, estimate a step's duration from their rate and adjust."""
        now = time.monotonic() if now is None else now
        self._count += 1
        slots = max(1, slots)
        elapsed = now - self._since
        if self._count < max(MIN_SAMPLE, slots * self.size // 2) and elapsed < RATE_WINDOW_S:
            return
        per_step = slots * elapsed / self._count
        self._since, self._count = now, 0
        if per_step < SHORT_STEP_S:
            self.size = min(self.max_chunk, self.size * 2)
        elif per_step > 2 * SHORT_STEP_S:
            self.size = max(1, self.size // 2)

    def split(self, jobs: list[Any], slots: int, limited: Any) -> list[list[Any]]:
        """Group ``jobs`` into messages: same family, no time limit, and never so large
        that fewer messages than worker slots carry them."""
        singles: list[list[Any]] = []
        families: dict[str, list[Any]] = {}
        for job in jobs:
            if self.size <= 1 or limited(job) or len(job.members) != 1:
                singles.append([job])
            else:
                families.setdefault(job.step.get_task_family(), []).append(job)
        chunks = singles
        for group in families.values():
            size = max(1, min(self.size, -(-len(group) // max(1, slots))))
            chunks.extend(group[start:start + size] for start in range(0, len(group), size))
        return chunks
