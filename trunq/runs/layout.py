"""The Run folder format, light enough for any process to import (stdlib + procs only).

One writer of ``config_for_run.json`` for every kind of run: ``Run.write_config`` and the
TaskList task processes (which must not pay for importing the whole Run machinery).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from trunq import procs

CONFIG_FILE = "config_for_run.json"
RESULT_FILE = "result.pkl"
INPUTS_FILE = "inputs.pkl"
FUNCTION_FILE = "function.pkl"


class RunStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"


class RunType(StrEnum):
    CMD_RUN = "CMD"
    FUNCTION_RUN = "FUNCTION"
    CTX_MANAGER = "CTX_MANAGER"
    STEP_RUN = "STEP"
    TASK_RUN = "TASK"


TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.ERROR, RunStatus.CANCELLED})


def config_path(folder: Path) -> Path:
    return folder / CONFIG_FILE


def write_config(folder: Path, data: dict[str, Any]) -> None:
    """Replace the run's config atomically (no fsync: it is bookkeeping, rewritten often)."""
    procs.atomic_write_json(config_path(folder), data, durable=False)
