"""The step-run journal: finished quick step runs as JSON lines instead of one folder each.

Each process that records steps appends to its own file
``<runs root>/.journal/<host>-<pid>-<start ticks>.jsonl``; a line is the complete
``config_for_run.json`` of one finished run, with ``name`` as its first key. Lines are
written with one ``write()`` on an ``O_APPEND`` descriptor, so a line is either whole or (the
process died mid-write) an unparsable tail that readers skip.

Reading costs: a lookup by name or by step id is one ``mmap`` substring search per journal
file (no JSON parsing except for the lines that match), so it is linear in the journal bytes
(~0.5 KB per run; a few hundred MB/s). Listing every run parses every line.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trunq.runs import _fs

JOURNAL_DIR = ".journal"
SUFFIX = ".jsonl"


def journal_path(root: Path) -> Path:
    """This process's journal file under ``root``."""
    return root / JOURNAL_DIR / f"{_fs.HOST}-{os.getpid()}-{_fs.own_start_ticks() or 0}{SUFFIX}"


def open_journal(root: Path) -> int:
    """An append-only descriptor on this process's journal (folders created as needed)."""
    path = journal_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)


def encode(record: dict[str, Any]) -> bytes:
    """One journal line; plain ``json.dumps`` first, as a ``default=`` hook makes it slower."""
    try:
        text = json.dumps(record)
    except TypeError:
        text = json.dumps(record, default=str)
    return (text + "\n").encode()


def journal_files(root: Path) -> list[Path]:
    try:
        entries = list(os.scandir(root / JOURNAL_DIR))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [Path(entry.path) for entry in entries if entry.name.endswith(SUFFIX) and entry.is_file()]


def iter_records(root: Path) -> Iterator[dict[str, Any]]:
    """Every complete record of every journal under ``root`` (unparsable lines skipped)."""
    for path in journal_files(root):
        try:
            with open(path, "rb") as handle:
                for line in handle:
                    record = _parse(line)
                    if record is not None:
                        yield record
        except OSError:
            continue


def find_record(root: Path, name: str) -> dict[str, Any] | None:
    """The record of run ``name``, or None."""
    needle = _name_prefix(name) + b'",'
    for record in _records_starting_with(root, needle):
        return record
    return None


def records_with_name_prefix(root: Path, prefix: str) -> list[dict[str, Any]]:
    """Records whose name starts with ``prefix`` (step runs: ``<step id>@``)."""
    return list(_records_starting_with(root, _name_prefix(prefix)))


def _name_prefix(name: str) -> bytes:
    quoted = json.dumps(name)  # the same escaping as the writer
    return b'{"name": ' + quoted[:-1].encode()


def _records_starting_with(root: Path, needle: bytes) -> Iterator[dict[str, Any]]:
    for path in journal_files(root):
        try:
            with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                yield from _matching_lines(data, needle)
        except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
            continue


def _matching_lines(data: mmap.mmap, needle: bytes) -> Iterator[dict[str, Any]]:
    position = data.find(needle)
    while position != -1:
        end = data.find(b"\n", position)
        if position == 0 or data[position - 1:position] == b"\n":
            record = _parse(data[position:end if end != -1 else len(data)])
            if record is not None:
                yield record
        if end == -1:
            return
        position = data.find(needle, end)


def _parse(line: bytes) -> dict[str, Any] | None:
    if not line.endswith(b"}") and not line.endswith(b"}\n"):
        return None  # a tail cut short by a kill
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and record.get("name") else None
