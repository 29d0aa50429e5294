"""Crash safety: killed or lost runs never read as completed, configs always parse, cancel kills the group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import runs_helpers

import trunq.runs as runs
from trunq.runs import RunStatus
from trunq.runs._fs import write_json_atomic


def _wait_until(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_kill_9_of_a_running_function_leaves_an_unfinished_run_with_partial_logs(local):
    started = runs.function(runs_helpers.ticker).to(local).run(1000, 0.01, run_name="killed")
    _wait_until(lambda: "tick 3" in started.stdout(), what="ticks")
    pid = started.refresh().pid

    os.kill(pid, signal.SIGKILL)
    record = started.wait(timeout=20)
    assert record.status == RunStatus.ERROR  # "lost" at once, then the launcher records the signal

    config = record.config_path
    _wait_until(lambda: json.loads(config.read_text())["status"] == "ERROR", what="final record")
    record = runs.load_run("killed")
    assert record.status_reason == "killed by signal 9"
    assert "tick 0\ntick 1\ntick 2\n" in record.stdout()
    assert not (record.path / "result.pkl").exists()
    _wait_until(lambda: not (record.path / ".lock").exists(), what="lock release")


def test_running_run_whose_owner_died_reads_as_lost(runs_dir):
    script = (
        "import time, trunq.runs as r\n"
        "with r.run(name='orphan'):\n"
        "    print('x' * 70000, flush=True)\n"
        "    time.sleep(60)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    try:
        out_file = runs_dir / "orphan" / "orphan.out"
        _wait_until(lambda: out_file.exists() and out_file.stat().st_size >= 70000, what="partial log")
        assert runs.load_run("orphan").status == RunStatus.RUNNING
    finally:
        owner.kill()
        owner.wait()

    lost = runs.load_run("orphan")
    assert lost.status == RunStatus.ERROR
    assert lost.status_reason == "lost"
    assert len(lost.stdout()) >= 70000
    assert [r.name for r in runs.list_runs(status="ERROR")] == ["orphan"]
    on_disk = json.loads((runs_dir / "orphan" / "config_for_run.json").read_text())
    assert on_disk["status"] == "RUNNING"  # reading never rewrites the record


def test_config_always_parses_while_being_rewritten(tmp_path):
    target = tmp_path / "config_for_run.json"
    write_json_atomic(target, {"n": 0})
    stop = threading.Event()

    def rewrite():
        n = 0
        while not stop.is_set():
            n += 1
            write_json_atomic(target, {"n": n, "padding": "y" * 5000})

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        for _ in range(2000):
            assert "n" in json.loads(target.read_text())
    finally:
        stop.set()
        writer.join()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_cancel_kills_the_whole_process_group(local, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    started = runs.function(runs_helpers.parent_of_sleeper).to(local).run(str(pid_file), run_name="tree")
    _wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), what="grandchild")
    grandchild = int(pid_file.read_text())
    pgid = started.refresh().pgid
    assert os.getpgid(grandchild) == pgid

    assert local.cancel("tree") is True

    def group_gone():
        members = [p for p in psutil.process_iter(["pid", "status"])
                   if _pgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE]
        return not members

    _wait_until(group_gone, timeout=10, what="process group to disappear")
    assert not psutil.pid_exists(grandchild) or \
        psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    assert local.get_run("tree").status == RunStatus.CANCELLED


def _pgid(pid):
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None
