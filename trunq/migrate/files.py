"""Migrate one file: read it, run the rewriter for its kind, report what stays."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from trunq.migrate.report import Issue

CONFIG_FILES = {"luigi.cfg", "client.cfg", "luigi.toml"}
_COMMAND_PATTERNS = ("*.sh", "*.bash", "Makefile", "makefile", "GNUmakefile", "*.mk", "crontab", "*.cron",
                     "*.crontab", "Procfile", "Jenkinsfile", "*.env", ".env")
_CONTAINER_PATTERNS = ("Dockerfile", "Dockerfile.*", "*.dockerfile", "*.yml", "*.yaml")


@dataclass
class FileChange:
    source: str  # path relative to the root
    target: str  # where the migrated text goes (differs for luigi.cfg -> trunq.toml)
    old: str | None  # None: a file we do not read (copied as is)
    new: str | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.old is not None and (self.new != self.old or self.target != self.source)


def kind(name: str) -> str | None:
    base = os.path.basename(name)
    if base in CONFIG_FILES:
        return "config"
    if base == "setup.py":
        return "setup"
    if base.endswith(".py"):
        return "python"
    if base == "pyproject.toml":
        return "pyproject"
    if fnmatch.fnmatch(base, "requirements*.txt") or base in ("setup.cfg", "constraints.txt"):
        return "requirements"
    if any(fnmatch.fnmatch(base, p) for p in _COMMAND_PATTERNS):
        return "commands"
    if any(fnmatch.fnmatch(base, p) for p in _CONTAINER_PATTERNS):
        return "container"
    return None


def _syntax_issue(rel: str, text: str, exc: Exception) -> Issue:
    """Python's own words for the error when it has them (clearer than the CST parser's)."""
    try:
        compile(text, rel, "exec", dont_inherit=True)
    except SyntaxError as error:
        return Issue(rel, error.lineno or 1, f"does not parse as Python 3 ({error.msg}), left untouched")
    line = getattr(exc, "raw_line", 1)
    return Issue(rel, line, f"cannot be parsed by libcst, left untouched: {getattr(exc, 'message', exc)}")


def _rewrite(kind_: str, rel: str, text: str, config_names: dict[str, str]) -> tuple[str, str, list[Issue]]:
    """(target path, new text, issues) for a file of a known kind."""
    from trunq.migrate import text_rewrite

    if kind_ in ("python", "setup"):
        import libcst as cst

        from trunq.migrate.python_rewrite import rewrite_python

        try:
            new, issues = rewrite_python(text, rel)
        except cst.ParserSyntaxError as exc:
            return rel, text, [_syntax_issue(rel, text, exc)]
        if kind_ == "setup":
            new = text_rewrite.rewrite_quoted_requirements(new)
        return rel, new, issues
    if kind_ == "config":
        from trunq.migrate.config_rewrite import convert_cfg

        if rel.endswith(".toml"):
            return os.path.join(os.path.dirname(rel), "trunq.toml"), text, []
        try:
            new_name, new, issues = convert_cfg(text, rel)
        except ValueError as exc:
            return rel, text, [Issue(rel, 1, f"{exc}; left untouched")]
        return os.path.join(os.path.dirname(rel), new_name), new, issues
    if kind_ == "pyproject":
        return rel, text_rewrite.rewrite_quoted_requirements(text), []
    if kind_ == "requirements":
        return rel, text_rewrite.rewrite_requirements(text), []
    new, issues = text_rewrite.rewrite_commands(text, rel, config_names, shell=kind_ == "commands")
    return rel, new, issues


def migrate_file(base: Path, rel: str, config_names: dict[str, str]) -> FileChange:
    kind_ = kind(rel)
    if kind_ is None:
        return FileChange(rel, rel, None, None)
    try:
        with open(base / rel, encoding="utf-8", newline="") as handle:  # keep \r\n line endings
            text = handle.read()
    except UnicodeDecodeError:
        return FileChange(rel, rel, None, None, [Issue(rel, 1, "not UTF-8 text, left untouched")])
    if kind_ in ("python", "setup") and "luigi" not in text:
        return FileChange(rel, rel, text, text)
    target, new, issues = _rewrite(kind_, rel, text, config_names)
    return FileChange(rel, target, text, new, issues)
