"""The step-run journal: finished quick step runs as JSON lines instead of one folder each.

Each process that records steps appends to its own file
``<runs root>/.journal/<host>-<pid>-<start ticks>.jsonl``. Its first line is a header with
what every run of the process shares (``{"journal": 1, "pid": ..., "host": ...}``); each
further line is one finished run with ``name`` as its first key, either

- compact, for a quick successful step: ``{"name", "status", "start_us", "end_us", "up",
  "down", "family", "params"}`` (times in microseconds since the epoch; ``step_id`` only
  when it differs from the name's part before ``@``), or
- complete: the run's ``config_for_run.json``.

Readers turn both into the config (:func:`iter_records`, :func:`find_record`). A line is
written with one ``write()`` on an ``O_APPEND`` descriptor, so it is whole or (the process
died mid-write) an unparsable tail that readers skip.

Reading costs: a lookup by name or by step id is one ``mmap`` substring search per journal
file (no JSON parsing except for the lines that match), so it is linear in the journal bytes
(~0.3 KB per run; a few hundred MB/s). Listing every run parses every line.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from trunq.runs import _fs

JOURNAL_DIR = ".journal"
SUFFIX = ".jsonl"
HEADER_START = b'{"journal": '
_quote = encode_basestring_ascii  # what json.dumps does to a str, in C


def journal_path(root: Path) -> Path:
    """This process's journal file under ``root``."""
    return root / JOURNAL_DIR / f"{_fs.HOST}-{os.getpid()}-{_fs.own_start_ticks() or 0}{SUFFIX}"


def open_journal(root: Path, shared: dict[str, Any]) -> int:
    """An append-only descriptor on this process's journal, whose header holds ``shared``."""
    path = journal_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    if os.fstat(fd).st_size == 0:
        os.write(fd, (json.dumps({"journal": 1, **shared}) + "\n").encode())
    return fd


def encode(record: dict[str, Any]) -> bytes:
    """A complete record as one line; plain ``json.dumps`` first, as a ``default=`` hook is slower."""
    try:
        text = json.dumps(record)
    except TypeError:
        text = json.dumps(record, default=str)
    return (text + "\n").encode()


def compact_line(name: str, status: str, start_us: int, end_us: int, upstream: list[str], downstream: list[str],
                 family: str, params: dict[str, str], step_id: str | None = None) -> bytes | None:
    """A quick step run as one compact line, or None when a parameter value is not a str.

    Built by hand: a json.dumps call costs more than the rest of the recording of a step.
    """
    fields = []
    for key, value in params.items():
        if type(value) is not str:
            return None
        fields.append(f"{_quote(key)}: {_quote(value)}")
    extra = "" if step_id is None else f', "step_id": {_quote(step_id)}'
    return (f'{{"name": {_quote(name)}, "status": "{status}", "start_us": {start_us}, "end_us": {end_us}, '
            f'"up": [{", ".join(map(_quote, upstream))}], "down": [{", ".join(map(_quote, downstream))}], '
            f'"family": {_quote(family)}, "params": {{{", ".join(fields)}}}{extra}}}\n').encode()


def journal_files(root: Path) -> list[Path]:
    try:
        entries = list(os.scandir(root / JOURNAL_DIR))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [Path(entry.path) for entry in entries if entry.name.endswith(SUFFIX) and entry.is_file()]


def iter_records(root: Path) -> Iterator[dict[str, Any]]:
    """The config of every complete record of every journal under ``root`` (torn lines skipped)."""
    for path in journal_files(root):
        yield from read_journal(path)


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """The configs of one journal file."""
    try:
        with open(path, "rb") as handle:
            header: dict[str, Any] = {}
            for line in handle:
                if line.startswith(HEADER_START):
                    header = _parse(line, {}, key="journal") or {}
                    continue
                record = _parse(line, header)
                if record is not None:
                    yield record
    except OSError:
        return


def find_record(root: Path, name: str) -> dict[str, Any] | None:
    """The config of run ``name``, or None."""
    needle = _name_prefix(name) + b'",'
    for record in _records_starting_with(root, needle):
        return record
    return None


def records_with_name_prefix(root: Path, prefix: str) -> list[dict[str, Any]]:
    """Configs of the records whose name starts with ``prefix`` (step runs: ``<step id>@``)."""
    return list(_records_starting_with(root, _name_prefix(prefix)))


def _name_prefix(name: str) -> bytes:
    return b'{"name": ' + _quote(name)[:-1].encode()  # the writer's escaping


def _records_starting_with(root: Path, needle: bytes) -> Iterator[dict[str, Any]]:
    for path in journal_files(root):
        try:
            with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                yield from _matching_lines(data, needle)
        except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
            continue


def _matching_lines(data: mmap.mmap, needle: bytes) -> Iterator[dict[str, Any]]:
    header: dict[str, Any] | None = None
    position = data.find(needle)
    while position != -1:
        end = data.find(b"\n", position)
        if position == 0 or data[position - 1:position] == b"\n":
            if header is None:
                first = data[:data.find(b"\n")]
                header = (_parse(first, {}, key="journal") or {}) if first.startswith(HEADER_START) else {}
            record = _parse(data[position:end if end != -1 else len(data)], header)
            if record is not None:
                yield record
        if end == -1:
            return
        position = data.find(needle, end)


def _parse(line: bytes, header: dict[str, Any], key: str = "name") -> dict[str, Any] | None:
    if not line.endswith(b"}") and not line.endswith(b"}\n"):
        return None  # a tail cut short by a kill
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not record.get(key):
        return None
    return _expand(record, header) if "start_us" in record else record


def _expand(record: dict[str, Any], header: dict[str, Any]) -> dict[str, Any]:
    """The config of a compact record."""
    name = record["name"]
    return {
        "name": name, "status": record["status"],
        "start_time": _iso(record["start_us"]), "end_time": _iso(record["end_us"]),
        "run_type": "STEP", "fn_name": None, "cmds": None,
        "upstream_artifacts": record["up"], "downstream_artifacts": record["down"],
        "pid": header.get("pid"), "pgid": header.get("pgid"), "pid_start": header.get("pid_start"),
        "host": header.get("host"), "error": None, "traceback": None, "status_reason": None,
        "step": {"family": record["family"], "step_id": record.get("step_id") or name.rpartition("@")[0],
                 "params": record["params"]},
    }


def _iso(epoch_us: int) -> str:
    second, micro = divmod(epoch_us, 1_000_000)
    return datetime.fromtimestamp(second, UTC).replace(microsecond=micro).isoformat()
