"""Warn when a worker resolves a client's relative output paths against another directory."""

from __future__ import annotations

import logging
import os
from typing import Any

from trunq.core.graph import output_paths

logger = logging.getLogger("trunq.worker")
_warned: set[tuple[str, str]] = set()
_same: dict[tuple[str, str], bool] = {}  # (client dir, worker dir) -> the same directory?


def warn_if_elsewhere(payload: dict[str, Any], step: Any) -> None:
    """One warning per client directory when relative outputs would land somewhere else."""
    client, here = payload.get("cwd"), os.getcwd()
    if not client or (client, here) in _warned or _same_directory(client, here):
        return
    try:
        relative = [path for path in output_paths(step) if not os.path.isabs(path)]
    except Exception:  # output() failing is reported by the run itself
        return
    if relative:
        _warned.add((client, here))
        logger.warning("trunq: %s has relative outputs (%s) resolved against this worker's directory %s, "
                       "not the client's %s", step, relative[0], here, client)


def _same_directory(client: str, here: str) -> bool:
    same = _same.get((client, here))
    if same is None:  # realpath() is a system call per path component: once per pair
        same = _same[(client, here)] = os.path.realpath(client) == os.path.realpath(here)
    return same
