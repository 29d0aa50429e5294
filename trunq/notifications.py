"""Failure notifications (placeholder until the notifications module lands)."""

from __future__ import annotations

from typing import Any


def notifier_from_config(config: Any) -> Any:
    """A notifier with ``step_failed(step, expl)`` and ``flush()``, or None when not configured."""
    return None
