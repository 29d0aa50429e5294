"""Task functions for the TaskList tests; importable by the task processes (by reference)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path


def read_calls(path) -> list[str]:
    """The values logged by record_call, one per execution."""
    return Path(path).read_text().split() if os.path.exists(path) else []


def add(a, b):
    return a + b


def prepare(x):
    return [x, x * 10]


def record_call(log_path, value):
    """Appends one line per execution, so tests can count how often a task really ran."""
    with open(log_path, "a") as stream:
        stream.write(f"{value}\n")
    return value


def pair(a, b):
    return (a, b)


def slow_record(log_path, value, seconds):
    time.sleep(seconds)
    return record_call(log_path, value)


def fail_with(message):
    raise ValueError(message)


def exit_with(code):
    sys.exit(code)


def segfault():
    ctypes.string_at(0)


def hard_exit():
    os._exit(7)


def shout(nbytes):
    sys.stdout.write("x" * nbytes)
    sys.stdout.flush()
    sys.stderr.write("done shouting\n")
    return nbytes


def spawn_grandchild_and_hang(pid_file):
    """Starts a grandchild `sleep`, records its pid, then hangs."""
    child = subprocess.Popen(["sleep", "300"])
    with open(pid_file, "w") as stream:
        stream.write(str(child.pid))
    time.sleep(300)


def spawn_background_and_return(pid_file):
    child = subprocess.Popen(["sleep", "300"])
    with open(pid_file, "w") as stream:
        stream.write(str(child.pid))
    return "returned"


def make_generator():
    return (i for i in range(3))


class Thing:
    def __init__(self, value):
        self.thing = value
        self.items = [value, value + 1]

    def double(self):
        return self.thing * 2


def record_when_released(log_path, value, flag_path, limit=60.0):
    """Waits (at most ``limit`` s) until ``flag_path`` exists, then records the call."""
    deadline = time.monotonic() + limit
    while not os.path.exists(flag_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    return record_call(log_path, value)
