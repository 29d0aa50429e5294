"""Carry out a migration: in place, into ``--out DIR``, or as a unified diff (``--dry-run``).

Every write goes to a temporary file in the same directory, is flushed to disk and then renamed
over the destination, so an interrupted migration never leaves a half-written or lost file. A
renamed config (luigi.cfg -> trunq.toml) is removed only after its new file is in place.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from pathlib import Path

from trunq.migrate.files import FileChange


def write_atomic(path: Path, text: str, mode_from: Path | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".trunq-tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if mode_from is not None:
            shutil.copymode(mode_from, temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def diff(change: FileChange) -> str:
    lines = difflib.unified_diff((change.old or "").splitlines(keepends=True),
                                 (change.new or "").splitlines(keepends=True),
                                 fromfile=f"a/{change.source}", tofile=f"b/{change.target}")
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if not text and change.target != change.source:
        text = f"rename a/{change.source} -> b/{change.target}\n"
    return text


def apply_in_place(base: Path, changes: list[FileChange]) -> None:
    for change in changes:
        if not change.changed:
            continue
        source = base / change.source
        write_atomic(base / change.target, change.new or "", mode_from=source)
        if change.target != change.source:
            source.unlink()


def apply_to(base: Path, out: Path, changes: list[FileChange]) -> None:
    """A migrated copy of the whole tree in ``out``; the original is not touched."""
    for change in changes:
        source = base / change.source
        if change.changed:
            write_atomic(out / change.target, change.new or "", mode_from=source)
        else:
            (out / change.source).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, out / change.source)
