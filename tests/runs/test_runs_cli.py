"""`trunq runs`, `trunq logs`, `trunq cancel` through the real command."""

from __future__ import annotations

import os
import subprocess
import time

import runs_helpers

import trunq.runs as runs
from trunq.runs import RunStatus


def trunq(*args, timeout=60):
    return subprocess.run(["trunq", *args], capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


def test_runs_lists_a_table_with_filters(local):
    fn = runs.function(runs_helpers.summer).to(local)
    fn(1, 2, run_name="good_run")
    local.run(["exit 2"], run_name="bad_run")

    listing = trunq("runs")
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.splitlines()
    assert header.split() == ["NAME", "STATUS", "TYPE", "START", "DURATION"]
    assert {row.split()[0] for row in rows} == {"good_run", "bad_run"}

    errors = trunq("runs", "--status", "ERROR")
    assert [row.split()[:3] for row in errors.stdout.splitlines()[1:]] == [["bad_run", "ERROR", "CMD"]]
    assert len(trunq("runs", "--limit", "1").stdout.splitlines()) == 2
    functions = trunq("runs", "--type", "FUNCTION")
    assert [row.split()[0] for row in functions.stdout.splitlines()[1:]] == ["good_run"]


def test_logs_shows_stdout_and_stderr(local):
    runs.function(runs_helpers.noisy_summer).to(local)(1, 2, run_name="noisy")

    out = trunq("logs", "noisy")
    assert (out.returncode, out.stdout) == (0, "adding 1 and 2\n")
    err = trunq("logs", "noisy", "--stderr")
    assert (err.returncode, err.stdout) == (0, "careful\n")


def test_logs_follow_stops_when_the_run_ends(local):
    runs.function(runs_helpers.ticker).to(local).run(5, 0.2, run_name="ticking")
    started = time.monotonic()
    followed = trunq("logs", "ticking", "--follow")
    assert followed.returncode == 0
    assert followed.stdout == "".join(f"tick {i}\n" for i in range(5))
    assert time.monotonic() - started < 30
    assert local.get_run("ticking").status == RunStatus.COMPLETED


def test_cancel_kills_and_marks_cancelled(local):
    started = runs.function(runs_helpers.sleeper).to(local).run(60, run_name="sleepy")
    deadline = time.monotonic() + 20
    while "started" not in started.stdout():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    pgid = started.refresh().pgid

    result = trunq("cancel", "sleepy")
    assert result.returncode == 0, result.stderr
    assert "cancelled sleepy" in result.stdout
    assert local.get_run("sleepy").status == RunStatus.CANCELLED
    from trunq.runs.control import group_alive

    deadline = time.monotonic() + 10
    while group_alive(pgid):
        assert time.monotonic() < deadline, "process group still alive"
        time.sleep(0.05)

    again = trunq("cancel", "sleepy")
    assert again.returncode == 1
    assert again.stderr.strip() == "Error: run 'sleepy' is not running (status CANCELLED)"


def test_unknown_run_names_give_one_line_and_exit_2(runs_dir):
    for command in (["logs", "nope"], ["cancel", "nope"]):
        result = trunq(*command)
        assert result.returncode == 2  # bad input: the run does not exist
        assert result.stderr.count("\n") == 1
        assert "no run named 'nope'" in result.stderr
        assert "Traceback" not in result.stderr


def test_corrupt_record_gives_one_line(runs_dir):
    folder = runs_dir / "broken"
    folder.mkdir(parents=True)
    (folder / "config_for_run.json").write_text("{not json")
    result = trunq("logs", "broken")
    assert result.returncode == 1
    assert "unreadable record" in result.stderr and "Traceback" not in result.stderr
    assert trunq("runs").returncode == 0


def test_runs_root_comes_from_config_below_the_environment(tmp_path, monkeypatch):
    from trunq import config
    from trunq.runs._fs import runs_root

    (tmp_path / "trunq.toml").write_text(f'[runs]\nroot = "{tmp_path / "configured"}"\n')
    monkeypatch.setenv("TRUNQ_CONFIG_PATH", str(tmp_path / "trunq.toml"))
    monkeypatch.delenv("TRUNQ_RUNS_DIR")
    config.set_config(None)
    assert runs_root() == tmp_path / "configured"
    monkeypatch.setenv("TRUNQ_RUNS_DIR", str(tmp_path / "from-env"))
    assert runs_root() == tmp_path / "from-env"
