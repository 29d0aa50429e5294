"""Process discipline shared by every part of trunq that starts, watches or stops processes.

* **identity**: ``(host, pid, start)`` names one process for good; a bare pid is reused by
  the kernel. ``start`` is the process's start time in clock ticks since boot on Linux (an
  exact integer, the value stored in Run configs and TaskList claims), else psutil's
  ``create_time`` in hundredths of a second.
* **is_alive**: zombies count as dead (they have exited; only their exit status is left).
* **kill_group**: SIGTERM a process group, wait up to a grace period, SIGKILL the rest and
  reap the leader when it is our child.
* **atomic_write**: a reader sees the old file or the new one, never a part.
* **interrupt_on_sigterm**: SIGTERM unwinds a command exactly as Ctrl-C does.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

HOST = socket.gethostname()


@dataclass(frozen=True)
class Identity:
    host: str
    pid: int
    start: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def start_stamp(pid: int) -> int | None:
    """When ``pid`` started, as an integer that differs between two processes with one pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return int(fields[19])  # field 22 of /proc/<pid>/stat: start time in clock ticks
    except (OSError, IndexError, ValueError):
        pass
    try:
        return round(psutil.Process(pid).create_time() * 100)
    except psutil.Error:
        return None


def identity(pid: int | None = None) -> Identity:
    pid = os.getpid() if pid is None else pid
    return Identity(HOST, pid, start_stamp(pid))


def create_time(pid: int) -> float | None:
    """psutil's start time of ``pid`` in epoch seconds (None when it is gone)."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def pid_alive(pid: int | None, start: int | None = None, host: str | None = None,
              other_host_alive: bool = True) -> bool:
    """True while ``pid`` (started at ``start``, when given) runs and is not a zombie.

    A process on another host cannot be checked: ``other_host_alive`` is the answer then.
    """
    if not pid:
        return False
    if host and host != HOST:
        return other_host_alive
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    if start is not None:
        current = start_stamp(pid)
        if current is not None and current != start:
            return False  # the pid was reused by another process
    return True


def is_alive(ident: Identity | dict[str, Any] | None, other_host_alive: bool = False) -> bool:
    """True while the identified process runs on this host (a zombie is dead)."""
    if ident is None:
        return False
    if isinstance(ident, dict):
        return pid_alive(ident.get("pid"), ident.get("start"), ident.get("host"), other_host_alive)
    return pid_alive(ident.pid, ident.start, ident.host, other_host_alive)


def signal_group(pgid: int, signum: int) -> bool:
    """Send ``signum`` to a process group; False when the group is gone or not ours."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_members(pgid: int) -> list[psutil.Process]:
    """The live (non-zombie) processes of group ``pgid``."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == pgid:
                members.append(process)
        except (OSError, psutil.Error):
            continue
    return members


def descendants(pid: int) -> list[psutil.Process]:
    """The processes ``pid`` started, and theirs (read before ``pid`` is killed: then they
    belong to init and cannot be told apart)."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def terminate_all(processes: list[psutil.Process]) -> None:
    """SIGTERM each of ``processes`` still alive, as luigi does to a killed task's children."""
    for process in processes:
        try:
            process.terminate()
        except psutil.Error:
            continue


def group_alive(pgid: int) -> bool:
    """True while a non-zombie process of the group exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return bool(group_members(pgid))


def kill_group(target: int | Any, grace_seconds: float = 1.0, settle_seconds: float = 5.0) -> bool:
    """SIGTERM the group, SIGKILL it after ``grace_seconds``; True when nothing of it is left.

    ``target`` is a pgid, or a process (``psutil.Process``, ``subprocess.Popen``,
    ``multiprocessing.Process``) leading the group. Zombies count as gone. A process target
    that is our child is reaped through its own object (so a Popen keeps its exit status);
    grandchildren are reaped by whoever adopted them when their parent died.
    """
    pgid = _pgid_of(target)
    if pgid == os.getpgid(0):
        raise ValueError("refusing to kill our own process group")
    gone = not signal_group(pgid, signal.SIGTERM) or _wait_group_gone(pgid, grace_seconds)
    if not gone:
        signal_group(pgid, signal.SIGKILL)
        gone = _wait_group_gone(pgid, settle_seconds)
    _reap(target)
    return gone


def _pgid_of(target: Any) -> int:
    if isinstance(target, int):
        return target
    pid = target.pid
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return pid  # the leader is gone; by convention its pid named the group


def _wait_group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if not group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _reap(target: Any) -> None:
    """Collect the exit status of a process object we started, so it does not stay a zombie."""
    try:
        if hasattr(target, "poll"):  # subprocess.Popen
            target.wait(timeout=1)
        elif hasattr(target, "join"):  # multiprocessing.Process
            target.join(timeout=1)
        elif isinstance(target, psutil.Process):
            target.wait(timeout=1)
    except (subprocess.TimeoutExpired, psutil.Error, ChildProcessError, AssertionError):
        pass


def temp_path(target: Path) -> Path:
    """A hidden temporary name beside ``target`` (same file system, so the rename is atomic).

    The writer's pid is part of the name so clean-up can tell a dead writer's leftovers.
    """
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def atomic_write(path: str | Path, data: bytes | str, durable: bool = True, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` in one step: temp file in the same dir, fsync, rename."""
    target = Path(path)
    payload = data.encode() if isinstance(data, str) else data
    tmp = temp_path(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise


def atomic_write_json(path: str | Path, data: Any, durable: bool = True, **dump_options: Any) -> None:
    """``atomic_write`` of ``json.dumps(data, **dump_options)`` (non-JSON values become str)."""
    dump_options.setdefault("default", str)
    atomic_write(path, json.dumps(data, **dump_options), durable=durable)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# ---- SIGTERM as Ctrl-C -----------------------------------------------------------------------
class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so a command unwinds exactly as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Within the block SIGTERM raises ``Terminated`` (a KeyboardInterrupt with ``signum``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupt_signal(exc: KeyboardInterrupt) -> int:
    """The signal behind an interrupt: SIGTERM for ``Terminated``, else SIGINT."""
    return int(getattr(exc, "signum", signal.SIGINT))
