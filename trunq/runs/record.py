"""The Run record: one folder per execution holding ``config_for_run.json``, inputs, result and logs."""

from __future__ import annotations

import importlib
import os
import shutil
import time
import traceback as tb_module
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from trunq.runs import _fs, journal, layout
from trunq.runs.capture import Capture
from trunq.runs.layout import TERMINAL, RunStatus, RunType

CORE_FIELDS = ("name", "status", "start_time", "end_time", "run_type", "fn_name", "cmds",
               "upstream_artifacts", "downstream_artifacts")
EXTRA_FIELDS = ("pid", "pgid", "pid_start", "host", "error", "traceback", "status_reason", "step")


class RunError(Exception):
    """Base class of the errors raised about runs."""


class RunNotFound(RunError):
    pass


class RunFailed(RunError):
    """The run ended in ERROR or CANCELLED; the message carries its error and traceback."""

    def __init__(self, run: Run) -> None:
        self.run = run
        detail = run.error or run.status_reason or run.status.value
        message = f"run {run.name!r} ended with {run.status.value}: {detail}"
        if run.traceback:
            message += f"\n{run.traceback}"
        super().__init__(message)


class RunNotFinished(RunError):
    pass


class RunInProgress(RunError):
    pass


class Run:
    """A record of one execution (function call, commands, ``with`` block, step or task).

    ``Run(name=..., path=...)`` loads the folder's config when it exists, so the same
    constructor creates and re-loads runs. The folder is ``<runs root>/<name>`` unless
    ``path`` is given.
    """

    RUN_CONFIG_FILE = layout.CONFIG_FILE
    RESULT_FILE = layout.RESULT_FILE
    INPUTS_FILE = layout.INPUTS_FILE

    def __init__(self, name: str | None = None, fn_name: str | None = None, cmds: list[str] | None = None,
                 path: str | os.PathLike[str] | None = None, run_type: RunType | str | None = None,
                 *, root: str | os.PathLike[str] | None = None, **extras: Any) -> None:
        if name is None and path is not None:
            name = Path(path).name
        self.name = _fs.safe_name(name or new_run_name("run"))
        base = Path(root) if root is not None else _fs.runs_root()
        self.path = Path(path).expanduser().absolute() if path is not None else base / self.name
        self.status = RunStatus.NOT_STARTED
        self.start_time: datetime | None = None
        self.end_time: datetime | None = None
        self.fn_name = fn_name
        self.cmds = cmds
        self.run_type = RunType(run_type) if run_type else _detect_type(fn_name, cmds)
        self.upstream_artifacts: list[str] = []
        self.downstream_artifacts: list[str] = []
        self.pid: int | None = None
        self.pgid: int | None = None
        self.pid_start: int | None = None
        self.host: str | None = None
        self.error: str | None = None
        self.traceback: str | None = None
        self.status_reason: str | None = None
        self.step: dict[str, Any] | None = None
        self.extras: dict[str, Any] = {}
        self._capture: Capture | None = None
        if self.config_path.exists():
            self._load()
        for key, value in extras.items():
            self._set_field(key, value)

    # ---- files ---------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / self.RUN_CONFIG_FILE

    @property
    def stdout_path(self) -> Path:
        return self.path / f"{self.name}.out"

    @property
    def stderr_path(self) -> Path:
        return self.path / f"{self.name}.err"

    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name, "status": self.status.value,
            "start_time": _fs.iso(self.start_time), "end_time": _fs.iso(self.end_time),
            "run_type": self.run_type.value, "fn_name": self.fn_name, "cmds": self.cmds,
            "upstream_artifacts": self.upstream_artifacts, "downstream_artifacts": self.downstream_artifacts,
        }
        for key in EXTRA_FIELDS:
            data[key] = getattr(self, key)
        data.update(self.extras)
        return data

    def write_config(self) -> Run:
        self.path.mkdir(parents=True, exist_ok=True)
        layout.write_config(self.path, self.config())
        return self

    def save(self, name: str | None = None) -> Run:
        """Write the config; with ``name``, also rename the run (its folder moves alongside)."""
        if name and name != self.name:
            target = self.path.with_name(_fs.safe_name(name))
            if self.path.exists():
                os.replace(self.path, target)
            self._rename_logs(name)
            self.name, self.path = _fs.safe_name(name), target
        return self.write_config()

    def _rename_logs(self, new_name: str) -> None:
        folder = self.path
        for suffix in (".out", ".err"):
            old = folder / f"{self.name}{suffix}"
            if old.exists():
                old.rename(folder / f"{_fs.safe_name(new_name)}{suffix}")

    def _load(self) -> None:
        data = _fs.read_json(self.config_path)
        for key, value in data.items():
            if key != "name":
                self._set_field(key, value)
        self.name = data.get("name") or self.name
        self._reconcile_lost_owner()

    def _set_field(self, key: str, value: Any) -> None:
        if key == "status":
            self.status = RunStatus(value)
        elif key == "run_type":
            self.run_type = RunType(value)
        elif key in ("start_time", "end_time"):
            setattr(self, key, _fs.parse_time(value))
        elif key in ("upstream_artifacts", "downstream_artifacts"):
            setattr(self, key, list(value or []))
        elif key in CORE_FIELDS or key in EXTRA_FIELDS:
            setattr(self, key, value)
        else:
            self.extras[key] = value

    def _reconcile_lost_owner(self) -> None:
        """A run whose owner process is gone can never finish: it reads as ERROR(lost)."""
        if self.status in TERMINAL or not self.pid:
            return
        if not _fs.pid_alive(self.pid, self.pid_start, self.host):
            self.status = RunStatus.ERROR
            self.status_reason = "lost"
            self.error = self.error or f"owner process {self.pid} on {self.host} is gone"

    # ---- reading -----------------------------------------------------------------------------
    def refresh(self) -> Run:
        if self.config_path.exists():
            self._load()
        return self

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def wait(self, timeout: float | None = None) -> Run:
        """Block until the run reaches COMPLETED, ERROR or CANCELLED."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.005
        while not self.refresh().done:
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"run {self.name!r} still {self.status.value} after {timeout}s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)
        return self

    def inputs(self) -> dict[str, Any]:
        """``{"args": [...], "kwargs": {...}}`` of a function run."""
        return _unpickle(self.path / self.INPUTS_FILE)

    def result_bytes(self) -> bytes:
        """The pickled result, for the spec's ``pickle.loads(run.result())`` form."""
        self._require_completed()
        return (self.path / self.RESULT_FILE).read_bytes()

    def result(self) -> Any:
        """The function's return value; raises RunFailed / RunNotFinished otherwise."""
        self._require_completed()
        return _unpickle(self.path / self.RESULT_FILE)

    def _require_completed(self) -> None:
        self.refresh()
        if self.status in (RunStatus.ERROR, RunStatus.CANCELLED):
            raise RunFailed(self)
        if self.status != RunStatus.COMPLETED:
            raise RunNotFinished(f"run {self.name!r} is {self.status.value}")

    def stdout(self) -> str:
        return _read_text(self.stdout_path)

    def stderr(self) -> str:
        return _read_text(self.stderr_path)

    @property
    def duration(self) -> float | None:
        if self.start_time and self.end_time:
            return (self.end_time - self.start_time).total_seconds()
        return None

    # ---- moving ------------------------------------------------------------------------------
    def to(self, system: str = "here", path: str | os.PathLike[str] | None = None) -> Run:
        """Copy the run folder; ``"here"`` means ``./trunq-runs/<name>`` in the working directory."""
        if system not in ("here", "file", "local"):
            raise ValueError(f"cannot copy a run to {system!r}: only 'here' or a local path is supported")
        destination = Path(path) if path is not None else Path.cwd() / _fs.DEFAULT_RUNS_DIR / self.name
        destination = destination.expanduser().absolute()
        if destination == self.path:
            return self
        shutil.copytree(self.path, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".lock"))
        return Run(path=destination)

    def delete(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def cancel(self, grace: float = 1.0) -> bool:
        # By name: control builds on this module, so a static import would make a cycle.
        control = importlib.import_module("trunq.runs.control")
        return bool(control.cancel_run(self, grace=grace))

    # ---- context manager ---------------------------------------------------------------------
    def __enter__(self) -> Run:
        self.status, self.status_reason = RunStatus.RUNNING, None
        self.start_time, self.end_time = _fs.utc_now(), None
        self.error = self.traceback = None
        self.upstream_artifacts, self.downstream_artifacts = [], []
        self.pid, self.pgid, self.pid_start, self.host = os.getpid(), os.getpgid(0), _fs.own_start_ticks(), _fs.HOST
        self.write_config()
        for stale in (self.stdout_path, self.stderr_path):
            stale.unlink(missing_ok=True)
        self._capture = Capture(self._append_log, self)
        self._capture.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if self._capture is not None:
            self._capture.__exit__(exc_type, exc, tb)
        self._capture = None
        self.end_time = _fs.utc_now()
        if exc is None:
            self.status = RunStatus.COMPLETED
        else:
            self.status = RunStatus.ERROR
            self.error = f"{type(exc).__name__}: {exc}"
            self.traceback = "".join(tb_module.format_exception(exc_type, exc, tb))
        self.write_config()
        return False

    def _append_log(self, index: int, text: str) -> None:
        target = self.stdout_path if index == 0 else self.stderr_path
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)

    def _register_artifact(self, path: str, direction: str) -> None:
        bucket = self.upstream_artifacts if direction == "upstream" else self.downstream_artifacts
        if path not in bucket:
            bucket.append(path)

    def _register_upstream_artifact(self, name: str) -> None:
        self._register_artifact(name, "upstream")

    def _register_downstream_artifact(self, name: str) -> None:
        self._register_artifact(name, "downstream")

    def __repr__(self) -> str:
        return f"Run(name={self.name!r}, status={self.status.value}, path={str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Run):
            return NotImplemented
        mine, theirs = self.config(), other.config()
        return mine == theirs


def _detect_type(fn_name: str | None, cmds: list[str] | None) -> RunType:
    if fn_name:
        return RunType.FUNCTION_RUN
    if cmds is not None:
        return RunType.CMD_RUN
    return RunType.CTX_MANAGER


def new_run_name(prefix: str) -> str:
    """``<prefix>_<YYYYmmdd_HHMMSS>_<6 hex>``: the suffix keeps same-second calls apart."""
    return f"{prefix}_{_fs.utc_now():%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:6]}"


def _unpickle(path: Path) -> Any:
    import dill  # by-value pickles of lambdas/closures need dill's loaders

    with open(path, "rb") as handle:
        return dill.load(handle)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


# ---- factory and queries -------------------------------------------------------------------------
def run(name: str | None = None, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Run:
    """Load the run at ``path`` or named ``name`` if it exists, else create a new (unsaved) one.

    A name is looked up as a folder first, then in the step-run journals.
    """
    created = Run(name=name, path=path, **kwargs)
    if path is not None or name is None or created.config_path.exists():
        return created
    record = journal.find_record(created.path.parent, created.name)
    return created if record is None else run_from_record(record, created.path.parent)


def load_run(name_or_path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> Run:
    """An existing run by name (a folder or a journal line under the runs root) or by folder path.

    Raises RunNotFound otherwise.
    """
    candidate = Path(name_or_path).expanduser()
    base = Path(root) if root is not None else _fs.runs_root()
    for folder in (base / _fs.safe_name(str(name_or_path)), candidate):
        if (folder / Run.RUN_CONFIG_FILE).is_file():
            return Run(path=folder)
    record = journal.find_record(base, str(name_or_path))
    if record is not None:
        return run_from_record(record, base)
    raise RunNotFound(f"no run named {str(name_or_path)!r} under {base}")


def run_from_record(record: dict[str, Any], root: Path) -> Run:
    """A Run for a journal line; its folder does not exist, so its logs read as empty."""
    fields = {key: value for key, value in record.items() if key not in ("name", "fn_name", "cmds", "run_type")}
    return Run(name=record["name"], fn_name=record.get("fn_name"), cmds=record.get("cmds"),
               run_type=record.get("run_type"), path=root / _fs.safe_name(record["name"]), **fields)


def iter_runs(root: str | os.PathLike[str] | None = None) -> Iterator[Run]:
    """Every readable run under the root: folders with a config that parses, then journal lines."""
    base = Path(root) if root is not None else _fs.runs_root()
    try:
        entries = list(os.scandir(base))
    except FileNotFoundError:
        return
    folder_names = set()
    for entry in entries:
        if entry.is_dir() and os.path.exists(os.path.join(entry.path, Run.RUN_CONFIG_FILE)):
            folder_names.add(entry.name)
            try:
                yield Run(path=entry.path)
            except (OSError, ValueError):
                continue  # unreadable record: skip it rather than hide every other run
    for record in journal.iter_records(base):
        if _fs.safe_name(record["name"]) not in folder_names:
            try:
                yield run_from_record(record, base)
            except (OSError, ValueError, KeyError):
                continue


def runs_of_step(step_id: str, limit: int | None = 20, root: str | os.PathLike[str] | None = None) -> list[Run]:
    """Runs of one step (by step id), newest first.

    Step runs are named ``<step id>@<start time>``: a prefix scan of the root's folder names
    plus one substring search per journal file, parsing only the matching lines.
    """
    base = Path(root) if root is not None else _fs.runs_root()
    prefix = _fs.safe_name(step_id) + "@"
    found: dict[str, Run] = {}
    try:
        names = [entry.name for entry in os.scandir(base) if entry.name.startswith(prefix) and entry.is_dir()]
    except FileNotFoundError:
        return []
    for name in names:
        if (base / name / Run.RUN_CONFIG_FILE).is_file():
            try:
                found[name] = Run(path=base / name)
            except (OSError, ValueError):
                continue
    for record in journal.records_with_name_prefix(base, prefix):
        name = _fs.safe_name(record["name"])
        if name not in found:
            found[name] = run_from_record(record, base)
    selected = [r for r in found.values() if (r.step or {}).get("step_id", step_id) == step_id]
    selected.sort(key=lambda r: r.start_time.timestamp() if r.start_time else 0.0, reverse=True)
    return selected if limit is None else selected[:limit]


def list_runs(status: RunStatus | str | None = None, run_type: RunType | str | None = None,
              since: datetime | None = None, step_family: str | None = None,
              root: str | os.PathLike[str] | None = None) -> list[Run]:
    """Runs newest first, filtered by status, type, start time and step family."""
    wanted_status = RunStatus(status) if status else None
    wanted_type = RunType(run_type) if run_type else None
    selected = []
    for record in iter_runs(root):
        if wanted_status and record.status != wanted_status:
            continue
        if wanted_type and record.run_type != wanted_type:
            continue
        if since and (record.start_time is None or record.start_time < since):
            continue
        if step_family and (record.step or {}).get("family") != step_family:
            continue
        selected.append(record)
    selected.sort(key=lambda r: r.start_time.timestamp() if r.start_time else 0.0, reverse=True)
    return selected
