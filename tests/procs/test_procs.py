"""trunq.procs with real processes: identity across pid reuse, zombies, group kill, atomic write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.waiting import wait_for
from trunq import procs


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _python(spawned: list[subprocess.Popen], code: str, **options: object) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", code], **options)  # type: ignore[call-overload]
    spawned.append(process)
    return process


def test_identity_names_a_live_process_and_not_its_successor(spawned: list[subprocess.Popen]) -> None:
    child = _python(spawned, "import time; time.sleep(60)")
    ident = procs.identity(child.pid)
    assert ident.host == procs.HOST and ident.pid == child.pid and isinstance(ident.start, int)
    assert procs.is_alive(ident) and procs.is_alive(ident.as_dict())
    # Same pid, other start time: what a reused pid looks like. It is not the same process.
    assert not procs.is_alive(procs.Identity(procs.HOST, child.pid, ident.start - 1))
    child.kill()
    child.wait()
    assert not procs.is_alive(ident)


def test_identity_start_is_stable_and_other_hosts_are_configurable() -> None:
    assert procs.identity().start == procs.start_stamp(os.getpid())
    remote = {"host": "elsewhere.invalid", "pid": os.getpid(), "start": None}
    assert not procs.is_alive(remote)
    assert procs.is_alive(remote, other_host_alive=True)
    assert not procs.is_alive(None)


def test_a_zombie_counts_as_dead(spawned: list[subprocess.Popen]) -> None:
    child = _python(spawned, "pass")
    ident = procs.identity(child.pid)
    wait_for(lambda: psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE, timeout=15, what="a zombie")
    assert not procs.is_alive(ident)
    assert not procs.pid_alive(child.pid)


GROUP_LEADER = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"])
print(grandchild.pid, flush=True)
time.sleep(120)
"""


def test_kill_group_reaches_a_grandchild_that_ignores_sigterm(spawned: list[subprocess.Popen]) -> None:
    leader = _python(spawned, GROUP_LEADER, start_new_session=True, stdout=subprocess.PIPE, text=True)
    grandchild = int(leader.stdout.readline())
    try:
        assert procs.group_alive(leader.pid)
        assert {p.pid for p in procs.group_members(leader.pid)} == {leader.pid, grandchild}
        assert procs.kill_group(leader.pid, grace_seconds=0.3)
        assert leader.poll() == -signal.SIGKILL  # SIGTERM was ignored: the group needed SIGKILL
        assert not procs.group_alive(leader.pid)
        assert not procs.pid_alive(grandchild)
    finally:
        for pid in (grandchild,):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        leader.stdout.close()


def test_kill_group_lets_a_polite_group_end_on_sigterm(spawned: list[subprocess.Popen]) -> None:
    leader = _python(spawned, "import time; print('up', flush=True); time.sleep(60)", start_new_session=True,
                     stdout=subprocess.PIPE, text=True)
    assert leader.stdout.readline().strip() == "up"
    assert procs.kill_group(leader, grace_seconds=10)
    assert leader.wait(timeout=5) == -signal.SIGTERM
    leader.stdout.close()


def test_kill_group_refuses_our_own_group() -> None:
    with pytest.raises(ValueError, match="own process group"):
        procs.kill_group(os.getpgid(0))


WRITER = """
import sys
from trunq import procs
target = sys.argv[1]
n = 0
while True:
    n += 1
    procs.atomic_write_json(target, {"n": n, "padding": "x" * 200000})
    if n == 3:
        print("writing", flush=True)
"""


def test_atomic_write_survives_kill_9_of_the_writer(spawned: list[subprocess.Popen], tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(procs.__file__).parents[1]),
                                                       os.environ.get("PYTHONPATH", "")]))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True, env=env)
    spawned.append(writer)
    assert writer.stdout.readline().strip() == "writing"
    seen = set()
    for _ in range(50):  # a reader racing the writer only ever sees whole files
        data = json.loads(target.read_text())
        assert len(data["padding"]) == 200000
        seen.add(data["n"])
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=10)
    writer.stdout.close()
    final = json.loads(target.read_text())
    assert final["n"] >= max(seen) and len(final["padding"]) == 200000


def test_atomic_write_accepts_text_and_bytes_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    procs.atomic_write(target, "first")
    procs.atomic_write(target, b"second", durable=False)
    assert target.read_bytes() == b"second"
    assert [path.name for path in tmp_path.iterdir()] == ["out.txt"]
