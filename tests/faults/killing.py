"""Helpers for the kill matrices: start real processes, track their children by pid, kill
whatever is left by pid at the end, and fingerprint a directory."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
from pathlib import Path

import psutil


class Started:
    """Processes a test started, plus the descendants it saw; all killed by pid at the end."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []
        self.pids: set[int] = set()

    def popen(self, argv: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   stdin=subprocess.DEVNULL, **kwargs)
        self.processes.append(process)
        self.pids.add(process.pid)
        return process

    def track_children(self, pid: int) -> list[int]:
        try:
            children = [child.pid for child in psutil.Process(pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            children = []
        self.pids.update(children)
        return children

    def kill_all(self) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for process in self.processes:
            try:
                process.communicate(timeout=10)
            except (subprocess.TimeoutExpired, ValueError):
                pass


def alive(pids: list[int]) -> list[int]:
    """The pids of ``pids`` still running (zombies have exited)."""
    running = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                running.append(pid)
        except psutil.NoSuchProcess:
            continue
    return running


def tree_hashes(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 of every file under ``root`` except under the top-level names in ``skip``."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*"))
            if path.is_file() and path.relative_to(root).parts[0] not in skip}


def unchanged(before: dict[str, str], after: dict[str, str]) -> bool:
    """Every file of ``before`` is still there with the same content (new files are allowed)."""
    return all(after.get(name) == digest for name, digest in before.items())
