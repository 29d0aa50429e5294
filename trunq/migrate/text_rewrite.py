"""Command lines (shell, Makefile, cron, Dockerfile, YAML) and dependency lists, line by line.

``luigi --module m T`` -> ``trunq --module m T``, ``python -m luigi`` -> ``python -m trunq``,
``LUIGI_CONFIG_PATH`` -> ``TRUNQ_CONFIG_PATH``, ``luigi.cfg`` -> the migrated config's name,
``luigid`` -> ``trunq server`` (Redis) plus ``celery -A trunq worker``, and the ``luigi``
requirement -> ``trunq``. Only the ``luigi`` command word is touched, not paths such as
``/var/log/luigi``.
"""

from __future__ import annotations

import re

from trunq.migrate.report import Issue

_REQ = r"luigi(?:\[[^\]]*\])?(?:\s*[<>=!~]=?\s*[\w.*]+(?:\s*,\s*[<>=!~]=?\s*[\w.*]+)*)?"
_INSTALL = re.compile(r"\b(pip3?|uv pip|poetry|conda|mamba|pipenv)\s+(install|add)\b")
_INSTALL_REQ = re.compile(rf"(?<![\w.\-/]){_REQ}(?![\w.\-/])", re.IGNORECASE)
_PY_M = re.compile(r"(\bpython[\d.]*\s+-m\s+)luigi\b")
_COMMAND = re.compile(r"(?<![\w.\-/$])((?:\S*bin/)?)luigi(?=\s+[-A-Za-z_]|\s*$|[\"'`;)&|])")
_LUIGID = re.compile(r"(?<![\w.\-])((?:\S*bin/)?)luigid(?P<args>(?:\s+--?[\w-]+(?:[ =](?!-)[^\s;&|]+)?)*)")
_YAML_DEP = re.compile(rf"^(\s*-\s*){_REQ}\s*$", re.IGNORECASE)
_REQ_LINE = re.compile(rf"^(\s*){_REQ}\s*(?:;.*)?$", re.IGNORECASE)
_QUOTED_REQ = re.compile(rf"([\"']){_REQ}\s*(?:;[^\"']*)?\1", re.IGNORECASE)
_POETRY = re.compile(r"^luigi\s*=.*$", re.IGNORECASE)

LUIGID_NOTE = ("# trunq migrate: luigid (luigi's central scheduler) is a Redis (`trunq server`) and "
               "Celery workers (`celery -A trunq worker`) in trunq")


def _luigid(line: str, path: str, number: int, shell: bool, issues: list[Issue]) -> list[str]:
    match = _LUIGID.search(line)
    if match is None:
        return [line]
    if match.group("args").strip():
        issues.append(Issue(path, number, f"luigid options dropped ({match.group('args').strip()}): "
                                          "configure Redis ([core] redis_url) and `trunq web` instead"))
    if shell:
        new = line[:match.start()] + "trunq server & celery -A trunq worker" + line[match.end():]
        indent = re.match(r"\s*", line).group(0)  # type: ignore[union-attr]
        return [indent + LUIGID_NOTE, new]
    issues.append(Issue(path, number, "luigid became `trunq server`: also run `celery -A trunq worker` "
                                      "(its own service/container)"))
    exec_form = line[match.start() - 1:match.start()] == '"' and line[match.end():match.end() + 1] == '"'
    replacement = 'trunq", "server' if exec_form else "trunq server"  # CMD ["luigid"] -> ["trunq", "server"]
    return [line[:match.start()] + replacement + line[match.end():]]


def rewrite_commands(text: str, path: str, config_names: dict[str, str],
                     shell: bool = True) -> tuple[str, list[Issue]]:
    """Rewrite the luigi command lines of a shell-like file. ``shell``: may add a second command."""
    issues: list[Issue] = []
    out: list[str] = []
    for number, line in enumerate(text.split("\n"), 1):
        line = line.replace("LUIGI_CONFIG_PATH", "TRUNQ_CONFIG_PATH")
        for old, new in config_names.items():
            line = re.sub(rf"(?<![\w.\-]){re.escape(old)}(?![\w.\-])", new, line)
        if _INSTALL.search(line):
            line = _INSTALL_REQ.sub("trunq", line)
        line = _YAML_DEP.sub(r"\1trunq", line)
        line = _PY_M.sub(r"\1trunq", line)
        line = _COMMAND.sub(r"\1trunq", line)
        out.extend(_luigid(line, path, number, shell, issues))
    return "\n".join(out), issues


def rewrite_requirements(text: str) -> str:
    """requirements.txt / setup.cfg lines naming luigi -> trunq (luigi's versions do not apply)."""
    return "\n".join(_REQ_LINE.sub(r"\1trunq", line) for line in text.split("\n"))


def rewrite_quoted_requirements(text: str) -> str:
    """``"luigi>=3"`` in pyproject.toml or setup.py -> ``"trunq"``; poetry's ``luigi = ...`` too."""
    text = _QUOTED_REQ.sub(r"\1trunq\1", text)
    return "\n".join(_POETRY.sub('trunq = "*"', line) for line in text.split("\n"))
