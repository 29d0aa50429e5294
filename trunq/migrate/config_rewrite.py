"""``luigi.cfg`` (ini) -> ``trunq.toml``, comments kept, section and option names unchanged.

Values in the engine's own sections (``[core]``, ``[worker]``, ``[scheduler]``, ``[retcode]``,
``[resources]``, ``[execution_summary]``) become TOML numbers and booleans when they plainly are
one. Every other section holds step parameters: those values stay strings, so each parameter
parses them exactly as it parsed the luigi.cfg text (a plain ``Parameter`` stays a ``str``). Option
names keep their spelling (trunq looks a parameter up by its exact name). A file using interpolation (``%(x)s`` or
``${VAR}``) is kept as ini in ``trunq.cfg`` and reported: TOML has no interpolation.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from typing import Any

from trunq.migrate.report import Issue

TYPED_SECTIONS = {"core", "worker", "scheduler", "retcode", "resources", "execution_summary"}
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_INT = re.compile(r"^[-+]?\d+$")
_FLOAT = re.compile(r"^[-+]?\d+\.\d+$")
_SCHEDULER_KEYS = {"scheduler_host", "scheduler_port", "scheduler_url", "default_scheduler_host",
                   "default_scheduler_port", "default_scheduler_url"}


def _key(name: str) -> str:
    return name if _BARE.match(name) else json.dumps(name)


def _value(section: str, text: str) -> str:
    if section in TYPED_SECTIONS:
        if _INT.match(text):
            return str(int(text))
        if _FLOAT.match(text):
            return text
        if text.lower() in ("true", "false"):
            return text.lower()
    return json.dumps(text, ensure_ascii=False)


def _parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def _lines_to_toml(text: str) -> tuple[list[str], list[tuple[int, str, str]]]:
    """TOML lines, and (line, section, key) of every option written."""
    out: list[str] = []
    options: list[tuple[int, str, str]] = []
    section = ""
    pending: list[Any] = []  # [line number, key, [value lines]]

    def flush() -> None:
        if pending:
            number, key, parts = pending
            value = "\n".join(p for p in parts if p).strip()
            out.append(f"{_key(key)} = {_value(section, value)}")
            options.append((number, section, key))
            pending.clear()

    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if pending and line[:1] in (" ", "\t") and stripped and stripped[0] not in "#;":
            pending[2].append(stripped)
            continue
        flush()
        if not stripped:
            out.append("")
        elif stripped[0] in "#;":
            out.append("#" + stripped[1:])
        elif stripped.startswith("["):
            section = stripped[1:stripped.index("]")]
            out.append(f"[{_key(section)}]")
        else:
            match = re.match(r"([^=:]+?)\s*[=:]\s*(.*)$", stripped)
            key, value = (match.group(1), match.group(2)) if match else (stripped, "")
            pending.extend([number, key, [value]])
    flush()
    return out, options


def convert_cfg(text: str, path: str) -> tuple[str, str, list[Issue]]:
    """(new file name, new text, issues) for a luigi.cfg. Raises ValueError when it does not parse."""
    try:
        parser = _parse(text)
    except configparser.Error as exc:
        raise ValueError(f"not a valid ini file: {str(exc).splitlines()[0]}") from None
    issues: list[Issue] = []
    interpolated = [n for n, line in enumerate(text.splitlines(), 1) if "%(" in line or "${" in line]
    if interpolated or parser.defaults():
        why = ("interpolation (%(x)s / ${VAR}): kept as ini in trunq.cfg; luigi expands ${VAR} from the "
               "environment, trunq does not (use TRUNQ__section__key=value)")
        issues += [Issue(path, n, why) for n in interpolated]
        if parser.defaults():
            issues.append(Issue(path, 1, "[DEFAULT] section: kept as ini in trunq.cfg; check it applies as in luigi"))
        return "trunq.cfg", text, issues
    lines, options = _lines_to_toml(text)
    new_text = "\n".join(lines).rstrip("\n") + "\n"
    loaded = tomllib.loads(new_text)  # our own output: a failure here is a bug, let it show
    for number, section, key in options:
        if str(loaded[section][key]).lower() != parser.get(section, key).lower():
            issues.append(Issue(path, number, f"[{section}] {key}: value changed in conversion; check it"))
        if section == "core" and key.replace("-", "_") in _SCHEDULER_KEYS:
            issues.append(Issue(path, number, f"[core] {key}: trunq has no HTTP scheduler; the cluster is "
                                              "Redis: set [core] redis_url"))
    return "trunq.toml", new_text, issues
