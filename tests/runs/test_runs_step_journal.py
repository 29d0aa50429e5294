"""Step runs through the real engine: journal lines for quick silent steps, folders for the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import step_jobs

import trunq
import trunq.runs as runs
from trunq.runs import RunStatus, journal, steps

HERE = Path(__file__).parent


def _cli(*args, timeout=60):
    return subprocess.run(["trunq", *args], capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


def _folders(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")] if root.exists() else []


def _wait_until(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def processes():
    """Popen objects started by a test; each one still alive at the end is killed by its pid."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def _build_in_subprocess(processes, step_expression: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    script = f"import trunq, step_jobs\ntrunq.build([step_jobs.{step_expression}], workers=1)\n"
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    processes.append(proc)
    return proc


def test_quick_silent_step_is_a_journal_line_readable_like_a_folder_run(runs_dir, tmp_path):
    step = step_jobs.Quick(n=7, root=str(tmp_path))
    assert trunq.build([step], workers=1)

    assert _folders(runs_dir) == []  # no folder: one journal line
    [listed] = runs.list_runs(run_type="STEP")
    assert listed.status == RunStatus.COMPLETED
    assert listed.step["family"] == "Quick" and listed.step["params"]["n"] == "7"
    assert listed.downstream_artifacts == [step.output().path]
    assert listed.name.startswith(step.step_id + "@")
    assert listed.start_time <= listed.end_time
    assert runs.load_run(listed.name) == listed
    assert runs.run(name=listed.name) == listed
    assert runs.runs_of_step(step.step_id) == [listed]
    assert runs.runs_of_step("Quick_unknown_0000") == []

    table = _cli("runs", "--type", "STEP")
    assert table.returncode == 0, table.stderr
    assert [row.split()[:3] for row in table.stdout.splitlines()[1:]] == [[listed.name, "COMPLETED", "STEP"]]
    logs = _cli("logs", listed.name)
    assert (logs.returncode, logs.stdout) == (0, "")
    refused = _cli("cancel", listed.name)
    assert refused.returncode == 1 and "is not running" in refused.stderr


def test_failing_and_printing_steps_get_folders_with_their_logs(runs_dir, tmp_path):
    printer, failer = step_jobs.Printer(root=str(tmp_path)), step_jobs.Failer(root=str(tmp_path))
    assert not trunq.build([printer, failer], workers=1)

    [printed] = runs.runs_of_step(printer.step_id)
    assert printed.path.is_dir() and printed.status == RunStatus.COMPLETED
    assert (printed.stdout(), printed.stderr()) == ("hello from printer\n", "a warning\n")
    assert json.loads(printed.config_path.read_text())["status"] == "COMPLETED"

    [failed] = runs.runs_of_step(failer.step_id)
    assert failed.path.is_dir() and failed.status == RunStatus.ERROR
    assert failed.error == "ValueError: broken on purpose"
    assert "raise ValueError" in failed.traceback
    assert {p.name for p in _folders(runs_dir)} == {printed.name, failed.name}

    logs = _cli("logs", printed.name, "--stderr")
    assert (logs.returncode, logs.stdout) == (0, "a warning\n")


def test_long_step_gets_a_running_folder_that_logs_follow(runs_dir, tmp_path, processes):
    proc = _build_in_subprocess(processes, f"Slow(seconds=2.5, root={str(tmp_path)!r})")
    _wait_until(lambda: runs.list_runs(status="RUNNING"), what="the RUNNING folder")  # its config written
    [folder] = _folders(runs_dir)
    running = runs.load_run(folder.name)
    assert running.status == RunStatus.RUNNING and running.pid == proc.pid
    assert running.step["family"] == "Slow"

    follow = _cli("logs", folder.name, "--follow", timeout=30)
    assert follow.returncode == 0
    assert follow.stdout == "partial output\nfinished\n"
    assert proc.wait(timeout=30) == 0
    assert runs.load_run(folder.name).status == RunStatus.COMPLETED


def test_kill_9_of_a_long_step_leaves_a_lost_run_with_partial_logs(runs_dir, tmp_path, processes):
    proc = _build_in_subprocess(processes, f"Slow(seconds=60, root={str(tmp_path)!r})")
    _wait_until(lambda: _folders(runs_dir) and runs.load_run(_folders(runs_dir)[0].name).stdout(),
                what="partial output in the run folder")
    [folder] = _folders(runs_dir)

    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)

    lost = runs.load_run(folder.name)
    assert lost.status == RunStatus.ERROR and lost.status_reason == "lost"
    assert lost.stdout() == "partial output\n"
    assert json.loads(lost.config_path.read_text())["status"] == "RUNNING"  # as the killed process left it
    assert runs.list_runs(status="COMPLETED") == []


def test_quick_runs_written_in_groups_survive_a_later_kill_9(runs_dir, tmp_path, processes):
    proc = _build_in_subprocess(processes, f"SlowAfterQuick(count=5, seconds=60, root={str(tmp_path)!r})")
    # The quick steps' lines wait for company, but not for the end of the build.
    _wait_until(lambda: len(runs.list_runs(step_family="Quick")) == 5, what="the quick steps' journal lines")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert all(r.status == RunStatus.COMPLETED for r in runs.list_runs(step_family="Quick"))


def test_inside_a_build_loop_a_line_waits_at_most_a_moment(runs_dir, tmp_path):
    with steps.recording_session():
        with steps.record_step(step_jobs.Quick(n=1, root=str(tmp_path))):
            pass
        ended = time.monotonic()
        _wait_until(lambda: runs.list_runs(step_family="Quick"), timeout=5, what="the line")
        assert time.monotonic() - ended < 3.0  # FLUSH_AFTER plus a watchdog tick, with room for a busy machine


def test_forked_pool_records_every_step_in_per_process_journals(runs_dir, tmp_path):
    with steps.record_step(step_jobs.Quick(n=-1, root=str(tmp_path))):
        pass  # the build process now holds an open journal and a watchdog before forking
    assert trunq.build([step_jobs.ManyQuick(count=12, root=str(tmp_path))], workers=2)

    quick_runs = runs.list_runs(step_family="Quick")
    assert sorted(int(r.step["params"]["n"]) for r in quick_runs) == list(range(-1, 12))
    assert all(r.status == RunStatus.COMPLETED for r in quick_runs)
    assert {r.pid for r in quick_runs} - {os.getpid()}, "the pool's steps ran in forked processes"
    for journal_file in (runs_dir / ".journal").iterdir():
        owner_pid = int(journal_file.name.rsplit("-", 2)[1])
        header, *lines = [json.loads(line) for line in journal_file.read_text().splitlines()]
        assert header["journal"] == 1 and header["pid"] == owner_pid and lines
        assert {record["pid"] for record in journal.read_journal(journal_file)} == {owner_pid}


def test_fork_while_the_parent_holds_the_recording_lock_does_not_deadlock(runs_dir, tmp_path):
    state = steps._process_state()
    with state.lock:  # as if the parent's watchdog were materialising a run at fork time
        child = os.fork()
        if child == 0:
            try:
                with steps.record_step(step_jobs.Quick(n=99, root=str(tmp_path))):
                    pass
            finally:
                os._exit(0)
    deadline = time.monotonic() + 10
    while os.waitpid(child, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            pytest.fail("the forked child deadlocked on the parent's lock")
        time.sleep(0.02)
    [recorded] = runs.list_runs(step_family="Quick")
    assert recorded.pid == child


def test_journal_tail_cut_by_a_kill_is_skipped(runs_dir, tmp_path):
    for n in range(3):
        with steps.record_step(step_jobs.Quick(n=n, root=str(tmp_path))):
            pass
    [journal_file] = (runs_dir / ".journal").iterdir()
    with open(journal_file, "a") as handle:
        handle.write('{"name": "Quick_cut_short@2024", "status": "COMPL')

    assert len(runs.list_runs(step_family="Quick")) == 3
    with pytest.raises(runs.RunNotFound):
        runs.load_run("Quick_cut_short@2024")
    missing = _cli("logs", "Quick_cut_short@2024")
    assert missing.returncode == 2 and "no run named" in missing.stderr and "Traceback" not in missing.stderr


def test_step_running_in_a_thread_records_its_own_output(runs_dir, tmp_path):
    def printing_step(n):
        with steps.record_step(step_jobs.Quick(n=n, root=str(tmp_path))):
            print(f"thread {n}")

    threads = [threading.Thread(target=printing_step, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outputs = {r.step["params"]["n"]: r.stdout() for r in runs.list_runs(step_family="Quick")}
    assert outputs == {str(n): f"thread {n}\n" for n in range(4)}
