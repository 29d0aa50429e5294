"""``trunq schedule``: cron triggering on a fake, accelerated clock; no second copy; catch-up; restarts."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.support.recurring import trunq_env
from trunq.config import Configuration
from trunq.cron import ScheduleDaemon, load_schedules

pytestmark = pytest.mark.slow  # real processes on an accelerated clock, seconds each


def at(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp()


def write_schedule(workdir: Path, cron: str, command: str, catchup: str = "latest", extra: str = "") -> None:
    (workdir / "trunq.toml").write_text(
        f'[schedule]\nstate_file = "{workdir}/state/schedule.json"\n{extra}\n'
        f'[schedule.stamps]\ncron = "{cron}"\ncommand = "{command}"\nmodule = "my_steps"\ncatchup = "{catchup}"\n'
    )


def stamps(workdir: Path) -> list[tuple[float, int, float, float]]:
    log = workdir / "out" / "stamp.log"
    if not log.exists():
        return []
    rows = [line.split() for line in log.read_text().splitlines()]
    return [(float(tick), int(pid), float(start), float(end)) for tick, pid, start, end in rows]


def state(workdir: Path) -> dict:
    return json.loads((workdir / "state" / "schedule.json").read_text())["schedules"]["stamps"]


def preset_state(workdir: Path, last_tick: str) -> None:
    (workdir / "state").mkdir(exist_ok=True)
    (workdir / "state" / "schedule.json").write_text(json.dumps({"schedules": {"stamps": {"last_tick": at(last_tick)}}}))


def test_list_shows_next_run_times(run_trunq, workdir):
    write_schedule(workdir, "30 0 * * *", "RangeDaily --of AllReports --start 2015-01-01")
    result = run_trunq("schedule", "list", "--now", "2024-01-01T12:00")
    assert result.returncode == 0, result.stderr
    assert "stamps: cron '30 0 * * *', catchup latest, last tick never" in result.stdout
    assert "next: 2024-01-02 00:30, 2024-01-03 00:30, 2024-01-04 00:30" in result.stdout
    assert "trunq build --module my_steps RangeDaily --of AllReports --start 2015-01-01 --local-scheduler" \
        in result.stdout


@pytest.mark.parametrize("config, needle", [
    ('[schedule.x]\ncron = "61 * * * *"\ncommand = "A"\n', "not a valid cron expression"),
    ('[schedule.x]\ncron = "* * * * *"\n', "needs a command"),
    ('[schedule.x]\ncron = "* * * * *"\ncommand = "A"\ncatchup = "sometimes"\n', "catchup must be one of"),
    ("", "no schedules configured"),
])
def test_bad_schedules_are_one_line_errors(run_trunq, workdir, config, needle):
    (workdir / "trunq.toml").write_text(config)
    result = run_trunq("schedule", "list")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_corrupt_state_file_is_a_one_line_error(run_trunq, workdir):
    write_schedule(workdir, "* * * * *", "Stamp")
    (workdir / "state").mkdir()
    (workdir / "state" / "schedule.json").write_text("{not json")
    result = run_trunq("schedule", "run", "--once")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "corrupt schedule state file" in result.stderr


def test_fires_each_tick_on_an_accelerated_clock(run_trunq, workdir):
    write_schedule(workdir, "*/10 * * * *", "Stamp")
    result = run_trunq("schedule", "run", "--now", "2024-01-01T00:05", "--speed", "300", "--poll", "0.05",
                       "--until", "2024-01-01T00:25")
    assert result.returncode == 0, result.stderr
    assert [row[0] for row in stamps(workdir)] == [at("2024-01-01T00:10"), at("2024-01-01T00:20")]
    assert state(workdir)["last_tick"] == at("2024-01-01T00:20") and state(workdir)["runs"] == 2


def test_never_starts_a_second_copy_of_a_running_build(run_trunq, workdir):
    write_schedule(workdir, "* * * * *", "Stamp --sleep 1.5")
    result = run_trunq("schedule", "run", "--now", "2024-01-01T00:00:50", "--speed", "60", "--poll", "0.05",
                       "--until", "2024-01-01T00:05:00")
    assert result.returncode == 0, result.stderr
    rows = stamps(workdir)
    assert len(rows) >= 2  # how many fit depends on how fast builds start on this machine
    assert all(later[2] >= earlier[3] for earlier, later in zip(rows, rows[1:]))  # never overlapping
    assert rows[0][0] == at("2024-01-01T00:01")
    assert "skipped" in result.stdout  # ticks that came while it ran were folded into one


def test_catchup_latest_runs_once_for_the_newest_missed_tick(run_trunq, workdir):
    write_schedule(workdir, "*/10 * * * *", "Stamp", catchup="latest")
    preset_state(workdir, "2024-01-01T00:00")
    result = run_trunq("schedule", "run", "--once", "--now", "2024-01-01T01:05")
    assert result.returncode == 0, result.stderr
    assert [row[0] for row in stamps(workdir)] == [at("2024-01-01T01:00")]
    assert "skipped 5 older missed tick(s)" in result.stdout


def test_catchup_none_drops_late_ticks(run_trunq, workdir):
    write_schedule(workdir, "*/10 * * * *", "Stamp", catchup="none", extra="grace_seconds = 300")
    preset_state(workdir, "2024-01-01T00:00")
    result = run_trunq("schedule", "run", "--once", "--now", "2024-01-01T01:07")
    assert result.returncode == 0, result.stderr
    assert stamps(workdir) == []
    assert "dropped 6 missed tick(s)" in result.stdout
    assert state(workdir)["last_tick"] == at("2024-01-01T01:00")
    on_time = run_trunq("schedule", "run", "--once", "--now", "2024-01-01T01:12")
    assert [row[0] for row in stamps(workdir)] == [at("2024-01-01T01:10")], on_time.stdout


def test_catchup_all_runs_every_missed_tick_in_order(workdir, monkeypatch):
    write_schedule(workdir, "*/10 * * * *", "Stamp", catchup="all", extra="max_catchup = 3")
    preset_state(workdir, "2024-01-01T00:00")
    for name, value in trunq_env(workdir).items():
        monkeypatch.setenv(name, value)
    config = Configuration({"schedule": {"state_file": f"{workdir}/state/schedule.json", "max_catchup": 3,
                                         "stamps": {"cron": "*/10 * * * *", "command": "Stamp",
                                                    "module": "my_steps", "catchup": "all"}}})
    specs, options = load_schedules(config)
    lines: list[str] = []
    daemon = ScheduleDaemon(specs, options, clock=lambda: at("2024-01-01T01:05"), echo=lines.append)
    for _ in range(4):
        daemon.poll()
        daemon.wait_for_children()
    expected = [at(f"2024-01-01T00:{m}0") for m in (4, 5)] + [at("2024-01-01T01:00")]
    assert [row[0] for row in stamps(workdir)] == expected
    assert state(workdir)["runs"] == 3


@pytest.fixture
def orphan_pids() -> list[int]:
    """Builds left running by a stopped daemon; killed by pid at the end."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_survives_a_restart_without_a_second_copy(run_trunq, workdir, spawned, orphan_pids):
    write_schedule(workdir, "* * * * *", "Stamp --sleep 60")
    daemon = subprocess.Popen(["trunq", "schedule", "run", "--now", "2024-01-01T00:00:59", "--poll", "0.05"],
                              cwd=workdir, env=trunq_env(workdir), stdout=subprocess.PIPE, text=True)
    spawned.append(daemon)
    state_file = workdir / "state" / "schedule.json"
    wait_for(lambda: state_file.exists() and state(workdir).get("pid"))
    build_pid = state(workdir)["pid"]
    orphan_pids.append(build_pid)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=10)
    assert psutil.pid_exists(build_pid)  # the build outlives its daemon

    again = run_trunq("schedule", "run", "--once", "--now", "2024-01-01T00:05:00")
    assert again.returncode == 0, again.stderr
    assert "started" not in again.stdout and state(workdir)["runs"] == 1
    listing = run_trunq("schedule", "list")
    assert f"running pid {build_pid}" in listing.stdout

    os.kill(build_pid, signal.SIGKILL)
    wait_for(lambda: not psutil.pid_exists(build_pid) or psutil.Process(build_pid).status() == psutil.STATUS_ZOMBIE)
    write_schedule(workdir, "* * * * *", "Stamp")
    after = run_trunq("schedule", "run", "--once", "--now", "2024-01-01T00:06:30")
    assert after.returncode == 0, after.stderr
    assert [row[0] for row in stamps(workdir)] == [at("2024-01-01T00:06")]
    assert state(workdir)["runs"] == 2
