"""Migrate a whole tree: pick a rewriter per file, collect changes and issues.

Nothing is written here; ``apply.py`` writes (in place, to ``--out``) or prints a diff.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from trunq.migrate.files import FileChange, kind, migrate_file
from trunq.migrate.report import Issue

SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "env", "node_modules", ".tox",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs"}
def walk(root: Path) -> Iterator[str]:
    """Relative paths of the files under ``root`` (or ``root`` itself), skipping VCS and venvs."""
    if root.is_file():
        yield root.name
        return
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            yield os.path.relpath(os.path.join(directory, name), root)


def _config_names(root: Path, names: list[str]) -> dict[str, str]:
    """The config file names the command files should now say."""
    mapping = {}
    for rel in names:
        base = os.path.basename(rel)
        if kind(rel) == "config":
            text = (root / rel).read_text(encoding="utf-8", errors="replace") if root.is_dir() else ""
            keeps_ini = base != "luigi.toml" and ("%(" in text or "${" in text)
            mapping[base] = "trunq.cfg" if keeps_ini else "trunq.toml"
    return mapping or {"luigi.cfg": "trunq.toml", "luigi.toml": "trunq.toml"}


def migrate_tree(root: Path) -> list[FileChange]:
    """One FileChange per file under ``root``."""
    names = list(walk(root))
    config_names = _config_names(root, names)
    base = root if root.is_dir() else root.parent
    changes = [migrate_file(base, rel, config_names) for rel in names]
    taken = {c.source for c in changes}
    for change in changes:
        if change.target != change.source:
            if change.target in taken:
                change.issues.append(Issue(change.source, 1, f"{change.target} exists already: not converted"))
                change.new, change.target = change.old, change.source
            taken.add(change.target)
    return changes
