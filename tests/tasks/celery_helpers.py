"""Functions run on the Celery pool by these tests.

The workers do not have this folder on their PYTHONPATH: they import this module through the
client's sys.path, which function runs (function.pkl) and TaskList messages carry.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path


def summer(a, b):
    return a + b


def noisy_summer(a, b):
    print(f"adding {a} and {b} in pid {os.getpid()}")
    print("careful", file=sys.stderr)
    return a + b


def counted_summer(counter_file, a, b, seconds=0.3):
    """Appends one line per execution so a test can count them."""
    with open(counter_file, "a") as handle:
        handle.write("x\n")
    time.sleep(seconds)
    return a + b


def failing_once(marker_file):
    if not os.path.exists(marker_file):
        Path(marker_file).write_text("failed once")
        raise ValueError("first call fails")
    return "ok"


def sleeper(seconds):
    print("started", flush=True)
    time.sleep(seconds)
    return "woke up"


def parent_of_sleeper(pid_file):
    """Starts a grandchild process and waits, to check that cancel kills the whole group."""
    child = subprocess.Popen(["sleep", "60"])
    Path(pid_file).write_text(str(child.pid))
    print("spawned", child.pid, flush=True)
    child.wait()


# ---- TaskList --------------------------------------------------------------------------------
def prepare(x):
    return [x, x * 10]


def dostuff(first, second):
    return first + second


def fail_with(message):
    raise ValueError(message)


def segfault():
    ctypes.string_at(0)


def spawn_grandchild_and_hang(pid_file):
    child = subprocess.Popen(["sleep", "300"])
    Path(pid_file).write_text(str(child.pid))
    time.sleep(300)


def slow_record(log_path, value, seconds):
    time.sleep(seconds)
    with open(log_path, "a") as stream:
        stream.write(f"{value}\n")
    return value


def read_lines(path) -> list[str]:
    return Path(path).read_text().split() if os.path.exists(path) else []
