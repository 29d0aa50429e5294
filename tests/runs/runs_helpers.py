"""Functions shipped to the local cluster by the run tests (importable by the child processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def summer(a, b):
    return a + b


def noisy_summer(a, b):
    print(f"adding {a} and {b}")
    print("careful", file=sys.stderr)
    return a + b


def counted_summer(counter_file, a, b):
    """Appends one line per execution so a test can count them."""
    with open(counter_file, "a") as handle:
        handle.write("x\n")
    time.sleep(0.3)
    return a + b


def failing_once(marker_file):
    """Fails on the first call, succeeds afterwards."""
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


def ticker(count, delay):
    for index in range(count):
        print(f"tick {index}", flush=True)
        time.sleep(delay)
    return count
