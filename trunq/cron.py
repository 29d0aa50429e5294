"""``trunq schedule``: run configured builds on cron expressions, without a crontab.

Schedules live in the configuration::

    [schedule.daily_reports]
    cron = "30 0 * * *"                                   # minute hour day month weekday, local time
    command = "RangeDaily --of AllReports --start 2015-01-01"
    module = "all_reports"                                # optional: --module
    catchup = "latest"                                    # latest | all | none
    local_scheduler = true                                # add --local-scheduler (default)

    [schedule]                                            # options of the daemon itself
    state_file = "/var/lib/trunq/schedule.json"           # default: ~/.local/state/trunq/schedule.json
    log_dir = "/var/log/trunq/schedule"                   # default: next to the state file
    grace_seconds = 300                                   # how late an on-time tick may be (catchup = none)
    max_catchup = 100                                     # catchup = all: older missed ticks are dropped

``trunq schedule run`` checks the clock every ``--poll`` seconds. A due tick starts
``python -m trunq build [--module M] COMMAND --local-scheduler`` as a child process (output
appended to ``<log_dir>/<name>.log``; ``TRUNQ_SCHEDULE_NAME`` and ``TRUNQ_SCHEDULED_TIME``,
the tick as epoch seconds, are in its environment).

Guarantees:

* **No second copy**: a schedule whose build is still running (a child of this daemon, or
  the pid recorded in the state file by an earlier daemon) is not started again. Its ticks
  wait and are then handled by the catch-up policy. The build's own lock is a second guard.
* **Restarts**: the last handled tick and the running pid of each schedule are kept in the
  JSON state file, written atomically after every change. A new schedule starts from now.
* **Catch-up** of ticks missed while the daemon was down or the build was running:
  ``latest`` (default) runs once for the newest missed tick; ``all`` runs every missed tick,
  one after another, oldest first (at most ``max_catchup``); ``none`` runs a tick only within
  ``grace_seconds`` of its time and drops older ones.

Time is injectable for tests and dry runs: ``--now`` sets the start of the clock and
``--speed`` makes it run faster than real time; ``ScheduleDaemon`` takes a ``clock``.
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from trunq import procs
from trunq.cli.bad_input import BadInput
from trunq.config import ConfigError, get_config, parse_bool

CATCHUP_POLICIES = ("latest", "all", "none")
DEFAULT_STATE_FILE = os.path.join("~", ".local", "state", "trunq", "schedule.json")


# ---- configuration -------------------------------------------------------------------------
@dataclass
class ScheduleSpec:
    """One configured schedule."""

    name: str
    cron: str
    command: list[str]
    module: str | None = None
    catchup: str = "latest"
    local_scheduler: bool = True

    def build_argv(self) -> list[str]:
        argv = [sys.executable, "-m", "trunq", "build"]
        if self.module:
            argv += ["--module", self.module]
        argv += self.command
        if self.local_scheduler and "--local-scheduler" not in self.command:
            argv.append("--local-scheduler")
        return argv


@dataclass
class DaemonOptions:
    state_file: str
    log_dir: str
    grace_seconds: float = 300.0
    max_catchup: int = 100


def _spec_from_options(name: str, options: dict[str, Any]) -> ScheduleSpec:
    from croniter import croniter

    where = f"[schedule.{name}]"
    cron = str(options.get("cron") or "").strip()
    if not cron:
        raise ConfigError(f"{where} needs a cron expression (cron = \"30 0 * * *\")")
    if not croniter.is_valid(cron):
        raise ConfigError(f"{where} cron {cron!r} is not a valid cron expression")
    command = options.get("command")
    if not command:
        raise ConfigError(f"{where} needs a command (command = \"MyStep --x 1\")")
    try:
        argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    except ValueError as exc:
        raise ConfigError(f"{where} command cannot be split into arguments: {exc}") from None
    catchup = str(options.get("catchup", "latest")).strip().lower()
    if catchup not in CATCHUP_POLICIES:
        raise ConfigError(f"{where} catchup must be one of {', '.join(CATCHUP_POLICIES)}, got {catchup!r}")
    return ScheduleSpec(
        name=name, cron=cron, command=argv, module=options.get("module") or None, catchup=catchup,
        local_scheduler=parse_bool(options.get("local_scheduler", True), f"{where} local_scheduler"),
    )


def _number(section: dict[str, Any], key: str, default: Any, kind: Callable[[Any], Any]) -> Any:
    value = section.get(key, default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or number < 0:
        noun = "a whole number" if kind is int else "a number"
        raise ConfigError(f"[schedule] {key} must be {noun} >= 0, got {value!r}")
    return number


def load_schedules(config: Any) -> tuple[list[ScheduleSpec], DaemonOptions]:
    """Schedules from ``[schedule.NAME]`` sections (TOML tables or cfg sections) and daemon options."""
    top = config.section("schedule")
    found: dict[str, dict[str, Any]] = {name: value for name, value in top.items() if isinstance(value, dict)}
    for section in config.sections():
        if section.startswith("schedule."):
            found[section[len("schedule."):]] = config.section(section)
    specs = [_spec_from_options(name, found[name]) for name in sorted(found)]
    state_file = os.path.expanduser(str(top.get("state_file") or DEFAULT_STATE_FILE))
    options = DaemonOptions(
        state_file=state_file,
        log_dir=os.path.expanduser(str(top.get("log_dir") or os.path.join(os.path.dirname(state_file), "logs"))),
        grace_seconds=_number(top, "grace_seconds", 300, float),
        max_catchup=_number(top, "max_catchup", 100, int),
    )
    return specs, options


# ---- persistent state ----------------------------------------------------------------------
@dataclass
class ScheduleState:
    last_tick: float | None = None  # the newest tick handled (run or dropped), epoch seconds
    pid: int | None = None  # the build started for it, while it may still run
    pid_started: float | None = None  # the process's start time, to tell a reused pid apart
    last_exit: int | None = None
    runs: int = 0


@dataclass
class StateFile:
    """``{"schedules": {name: {...}}}`` in a JSON file, replaced atomically on each save."""

    path: str
    schedules: dict[str, ScheduleState] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str) -> StateFile:
        if not os.path.exists(path):
            return cls(path)
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            entries = data["schedules"]
            return cls(path, {name: ScheduleState(**entry) for name, entry in entries.items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"corrupt schedule state file {path}: {exc}") from None

    def get(self, name: str) -> ScheduleState:
        return self.schedules.setdefault(name, ScheduleState())

    def save(self) -> None:
        directory = os.path.dirname(self.path) or "."
        os.makedirs(directory, exist_ok=True)
        payload = {"schedules": {name: vars(state) for name, state in sorted(self.schedules.items())}}
        procs.atomic_write_json(self.path, payload, indent=2)


# ---- cron arithmetic -----------------------------------------------------------------------
def _local(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch)


def ticks_between(cron: str, after: float, until: float, limit: int) -> list[float]:
    """Tick times in ``(after, until]``, oldest first, at most the newest ``limit``."""
    from croniter import croniter

    ticks: list[float] = []
    iterator = croniter(cron, _local(after))
    while True:
        tick = iterator.get_next(datetime.datetime).timestamp()
        if tick > until:
            return ticks
        ticks.append(tick)
        if len(ticks) > limit:
            ticks.pop(0)


def next_ticks(cron: str, after: float, count: int) -> list[float]:
    from croniter import croniter

    iterator = croniter(cron, _local(after))
    return [iterator.get_next(datetime.datetime).timestamp() for _ in range(count)]


# ---- the daemon ----------------------------------------------------------------------------
class Clock:
    """Real time, or a fake time starting at ``start`` and running ``speed`` times faster."""

    def __init__(self, start: float | None = None, speed: float = 1.0) -> None:
        self._real_origin = time.monotonic()
        self._origin = time.time() if start is None else start
        self.speed = speed

    def __call__(self) -> float:
        return self._origin + (time.monotonic() - self._real_origin) * self.speed


def _process_alive(pid: int, started: float | None) -> bool:
    if not procs.pid_alive(pid):
        return False
    current = procs.create_time(pid)
    return started is None or (current is not None and abs(current - started) < 1.0)


class ScheduleDaemon:
    """Decides which schedules are due and starts their builds; one ``poll()`` per check."""

    def __init__(self, specs: list[ScheduleSpec], options: DaemonOptions,
                 clock: Callable[[], float] = time.time, echo: Callable[[str], None] = print) -> None:
        self.specs = specs
        self.options = options
        self.clock = clock
        self.echo = echo
        self.state = StateFile.load(options.state_file)
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def poll(self) -> None:
        now = self.clock()
        changed = False
        for spec in self.specs:
            changed |= self._poll_one(spec, now)
        if changed:
            self.state.save()

    def _poll_one(self, spec: ScheduleSpec, now: float) -> bool:
        state = self.state.get(spec.name)
        if state.last_tick is None:  # a new schedule starts from now, with no backlog
            state.last_tick = now
            return True
        if self._still_running(spec, state):
            return False
        changed = state.pid is not None
        state.pid = state.pid_started = None
        ticks = ticks_between(spec.cron, state.last_tick, now, self.options.max_catchup)
        if not ticks:
            return changed
        tick = self._tick_to_run(spec, ticks, now)
        state.last_tick = tick if spec.catchup == "all" and tick is not None else ticks[-1]
        if tick is not None:
            self._start(spec, state, tick)
        return True

    def _tick_to_run(self, spec: ScheduleSpec, ticks: list[float], now: float) -> float | None:
        if spec.catchup == "all":
            return ticks[0]
        newest = ticks[-1]
        if spec.catchup == "none" and now - newest > self.options.grace_seconds:
            self.echo(f"{spec.name}: dropped {len(ticks)} missed tick(s) (catchup = none)")
            return None
        if len(ticks) > 1:
            self.echo(f"{spec.name}: skipped {len(ticks) - 1} older missed tick(s) (catchup = {spec.catchup})")
        return newest

    def _still_running(self, spec: ScheduleSpec, state: ScheduleState) -> bool:
        child = self.children.get(spec.name)
        if child is not None:
            code = child.poll()
            if code is None:
                return True
            del self.children[spec.name]
            state.last_exit = code
            self.echo(f"{spec.name}: build pid {child.pid} exited with status {code}")
            return False
        return state.pid is not None and _process_alive(state.pid, state.pid_started)

    def _start(self, spec: ScheduleSpec, state: ScheduleState, tick: float) -> None:
        os.makedirs(self.options.log_dir, exist_ok=True)
        env = dict(os.environ, TRUNQ_SCHEDULE_NAME=spec.name, TRUNQ_SCHEDULED_TIME=str(int(tick)))
        with open(os.path.join(self.options.log_dir, f"{spec.name}.log"), "ab") as log:
            log.write(f"--- {spec.name} tick {_local(tick):%Y-%m-%d %H:%M} ---\n".encode())
            log.flush()
            child = subprocess.Popen(spec.build_argv(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.children[spec.name] = child
        state.pid = child.pid
        state.pid_started = _create_time(child.pid)
        state.runs += 1
        self.echo(f"{spec.name}: started build pid {child.pid} for tick {_local(tick):%Y-%m-%d %H:%M}")

    def wait_for_children(self) -> None:
        for name, child in list(self.children.items()):
            code = child.wait()
            state = self.state.get(name)
            state.last_exit, state.pid, state.pid_started = code, None, None
            self.echo(f"{name}: build pid {child.pid} exited with status {code}")
        self.children.clear()
        self.state.save()


def _create_time(pid: int) -> float | None:
    return procs.create_time(pid)


# ---- command line --------------------------------------------------------------------------
def _parse_time(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise BadInput(f"{text!r} is neither epoch seconds nor an ISO date-time") from None


def _load() -> tuple[list[ScheduleSpec], DaemonOptions]:
    try:
        specs, options = load_schedules(get_config())
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    if not specs:
        raise BadInput("no schedules configured (add a [schedule.NAME] section with cron and command)")
    return specs, options


@click.group("schedule")
def schedule_group() -> None:
    """Run configured builds on cron expressions ([schedule.NAME] in the config)."""


@schedule_group.command("list")
@click.option("--count", default=3, show_default=True, help="How many next run times to show.")
@click.option("--now", "now_text", help="Pretend it is this time (epoch seconds or ISO date-time).")
def list_command(count: int, now_text: str | None) -> None:
    """Show each schedule, its catch-up policy and its next run times."""
    specs, options = _load()
    now = _parse_time(now_text) or time.time()
    try:
        state = StateFile.load(options.state_file)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    for spec in specs:
        entry = state.schedules.get(spec.name, ScheduleState())
        last = "never" if entry.last_tick is None else f"{_local(entry.last_tick):%Y-%m-%d %H:%M}"
        running = f", running pid {entry.pid}" if entry.pid and _process_alive(entry.pid, entry.pid_started) else ""
        click.echo(f"{spec.name}: cron '{spec.cron}', catchup {spec.catchup}, last tick {last}{running}")
        click.echo("  command: trunq " + shlex.join(spec.build_argv()[3:]))
        upcoming = ", ".join(f"{_local(t):%Y-%m-%d %H:%M}" for t in next_ticks(spec.cron, now, count))
        click.echo(f"  next: {upcoming}")


def _nap(seconds: float, stopping: list[bool]) -> None:
    """Sleep up to ``seconds``, waking within 0.2 s of a SIGTERM."""
    deadline = time.monotonic() + seconds
    while not stopping and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.2))


@schedule_group.command("run")
@click.option("--poll", default=15.0, show_default=True, help="Real seconds between two clock checks.")
@click.option("--now", "now_text", help="Start the clock at this time (epoch seconds or ISO date-time).")
@click.option("--speed", default=1.0, show_default=True, help="Clock speed-up factor (for tests and dry runs).")
@click.option("--until", "until_text", help="Stop when the clock passes this time (then wait for builds).")
@click.option("--once", is_flag=True, help="Check once, wait for the builds started, and exit.")
def run_command(poll: float, now_text: str | None, speed: float, until_text: str | None, once: bool) -> None:
    """Start due builds as their cron expressions say, until stopped (SIGTERM or Ctrl-C)."""
    specs, options = _load()
    if speed <= 0 or poll <= 0:
        raise BadInput("--speed and --poll must be positive")
    start, until = _parse_time(now_text), _parse_time(until_text)
    try:
        daemon = ScheduleDaemon(specs, options, clock=Clock(start, speed),
                                echo=lambda line: click.echo(line, err=False))
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    # The fake clock starts with the loop, so a slow start-up does not skip early ticks.
    clock = daemon.clock = Clock(start, speed)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:  # the ready line inside: a Ctrl-C right after it still stops cleanly
        click.echo(f"trunq schedule: {len(specs)} schedule(s), state in {options.state_file}")
        sys.stdout.flush()
        while not stopping:
            daemon.poll()
            sys.stdout.flush()
            if once or (until is not None and clock() >= until):
                daemon.wait_for_children()
                break
            _nap(poll, stopping)
    except KeyboardInterrupt:
        pass
    daemon.state.save()  # running builds keep going; their pids stay in the state file
