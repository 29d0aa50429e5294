"""What happened in a build: categories, the summary text, the status and the exit code.

The text follows luigi's execution summary: a banner, ``Scheduled N steps of which:``,
one ``* <count> <phrase>:`` header per category in a fixed order, one ``- <count>
Family(params)`` line per family, then ``This progress looks :) because ...``.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from enum import Enum
from typing import Any

from trunq.config import Configuration
from trunq.parameter import ParameterVisibility
from trunq.scheduler import core as states

BANNER = "===== Trunq Execution Summary ====="

# (category, phrase, indent level); the pending sub-categories sit under still_pending.
_CATEGORIES = [
    ("already_done", "complete ones were encountered", 0),
    ("completed", "ran successfully", 0),
    ("failed", "failed", 0),
    ("scheduling_error", "failed scheduling", 0),
    ("still_pending", "were left pending, among these", 0),
    ("still_pending_ext", "were missing external dependencies", 1),
    ("run_by_other_worker", "were being run by another worker", 1),
    ("upstream_failure", "had failed dependencies", 1),
    ("upstream_missing_dependency", "had missing dependencies", 1),
    ("upstream_run_by_other_worker", "had dependencies that were being run by other worker", 1),
    ("upstream_scheduling_error", "had dependencies whose scheduling failed", 1),
    ("not_run", "was not granted run permission by the scheduler", 1),
]
_PENDING_PARTS = [name for name, _, level in _CATEGORIES if level == 1]


class TrunqStatusCode(Enum):
    SUCCESS = (":)", "there were no failed steps or missing dependencies")
    SUCCESS_WITH_RETRY = (":)", "there were failed steps but they all succeeded in a retry")
    FAILED = (":(", "there were failed steps")
    FAILED_AND_SCHEDULING_FAILED = (":(", "there were failed steps and steps whose scheduling failed")
    SCHEDULING_FAILED = (":(", "there were steps whose scheduling failed")
    NOT_RUN = (":|", "there were steps that were not granted run permission by the scheduler")
    MISSING_EXT = (":|", "there were missing external dependencies")


class TrunqRunResult:
    """The result of ``build(..., detailed_summary=True)``."""

    def __init__(self, worker: Any, scheduling_succeeded: bool = True) -> None:
        self.worker = worker
        self.categories = categorize(worker)
        self.status = status_of(self.categories)
        self.scheduling_succeeded = scheduling_succeeded
        self.build_id: str | None = None  # a cluster build's record (``trunq builds show ID``)
        self.summary_text = summary_text(self.categories, self.status, worker)
        smiley, reason = self.status.value
        self.one_line_summary = f"This progress looks {smiley} because {reason}"

    def __repr__(self) -> str:
        return f"TrunqRunResult(status={self.status.name}, scheduling_succeeded={self.scheduling_succeeded})"


def categorize(worker: Any) -> dict[str, list[Any]]:
    """category -> steps, from the worker's final view of its graph."""
    core = worker.core
    found: dict[str, list[Any]] = defaultdict(list)
    simple = {
        states.FAILED: "failed",
        states.SCHEDULING_ERROR: "scheduling_error",
        states.MISSING_EXT: "still_pending_ext",
        states.RUN_BY_OTHER: "run_by_other_worker",
        states.DISABLED: "failed",  # failed too often: reported with its reason below
    }
    problems = core.upstream_problems()
    for node in core.nodes.values():
        if node.ever_failed:
            found["ever_failed"].append(node.step)
        if node.status == states.DONE:
            found["already_done" if node.initially_done or not node.ran_here else "completed"].append(node.step)
        elif node.status in simple:
            found[simple[node.status]].append(node.step)
        elif node.step_id in problems:
            kinds = problems[node.step_id] or {"not_run"}
            for kind in sorted(kinds):
                found[kind].append(node.step)
    pending = {id(step): step for part in _PENDING_PARTS for step in found.get(part, [])}
    found["still_pending"] = list(pending.values())
    return found


def status_of(categories: dict[str, list[Any]]) -> TrunqStatusCode:
    if categories.get("ever_failed"):
        if not categories.get("failed"):
            return TrunqStatusCode.SUCCESS_WITH_RETRY
        if categories.get("scheduling_error"):
            return TrunqStatusCode.FAILED_AND_SCHEDULING_FAILED
        return TrunqStatusCode.FAILED
    if categories.get("failed"):
        return TrunqStatusCode.FAILED
    if categories.get("scheduling_error"):
        return TrunqStatusCode.SCHEDULING_FAILED
    if categories.get("not_run"):
        return TrunqStatusCode.NOT_RUN
    if categories.get("still_pending_ext"):
        return TrunqStatusCode.MISSING_EXT
    return TrunqStatusCode.SUCCESS


def summary_text(categories: dict[str, list[Any]], status: TrunqStatusCode, worker: Any) -> str:
    total = len(worker.core.nodes)
    if total == 0:
        return "\n".join([BANNER, "", "Did not schedule any steps", "", BANNER])
    smiley, reason = status.value
    lines = [BANNER, "", f"Scheduled {total} steps of which:"]
    limit = _settings(worker).getint("execution_summary", "summary_length", 5)
    for name, phrase, level in _CATEGORIES:
        steps = categories.get(name)
        if not steps:
            continue
        indent = "    " * level
        lines.append(f"{indent}* {len(steps)} {phrase}:")
        if name != "still_pending":
            lines.extend(f"{indent}    {line}" for line in family_lines(steps, 5 if limit is None else limit))
    lines.extend(_disabled_lines(worker))
    lines.append("")
    if not categories.get("completed") and not categories.get("failed"):
        lines.append("Did not run any steps")  # the progress line follows at once, as luigi's
    lines.extend([f"This progress looks {smiley} because {reason}", "", BANNER])
    return "\n".join(lines)


def _disabled_lines(worker: Any) -> list[str]:
    """Why each disabled step is disabled, and the command that re-enables it."""
    disabled = [node for node in worker.core.nodes.values() if node.status == states.DISABLED]
    if not disabled:
        return []
    lines = ["", f"{len(disabled)} disabled steps (failed too often; `trunq reenable STEP_ID` "
                 "or `trunq reenable --family FAMILY` lets them run again):"]
    for node in disabled:
        reason = (node.expl or "disabled in the scheduler").strip().splitlines()[0]
        lines.append(f"    - {node.step_id}: {reason}")
    return lines


def family_lines(steps: list[Any], limit: int) -> list[str]:
    """One ``- <count> <description>`` line per family, families in name order, as luigi; past
    ``limit`` families (``[execution_summary] summary_length``, 0: no limit) a ``...`` line."""
    by_family: dict[str, list[Any]] = defaultdict(list)
    for step in steps:
        by_family[step.step_family].append(step)
    lines: list[str] = []
    for family in sorted(by_family):
        if limit > 0 and len(lines) >= limit:
            lines.append("...")
            break
        group = by_family[family]
        lines.append(f"- {len(group)} {describe_group(family, group)}")
    return lines


def describe_group(family: str, group: list[Any]) -> str:
    """What follows the count on a family's line, by luigi's rules: ``Family()`` without
    parameters; ``Family(...)`` for long ones; one parameter: its values, or ``first...last``
    for a run of more than 3; several, of which one varies over a run of more than 2: that
    one as ``first...last`` beside the others; else the first step (and the second of two,
    or ``...``). Steps in the order of their text; PRIVATE parameters never shown."""
    first_two = heapq.nsmallest(2, group, key=repr)
    first = first_two[0]
    params = [(name, p) for name, p in first.get_params() if p.visibility != ParameterVisibility.PRIVATE]
    text = repr(first)
    if not params:
        return f"{family}()"
    names_length = sum(len(name) for name, _ in params)
    if names_length > 60 or len(text) > 200 or (
            len(group) == 2 and len(params) > 1 and (names_length > 40 or len(text) > 100)):
        return f"{family}(...)"
    if len(params) == 1:
        name, param = params[0]
        values = _values(group, name)
        ends = _run_ends(values, param)
        shown = _range(param, ends) if ends and len(values) > 3 else _value_list(group, name, param)
        return f"{family}({name}={shown})"
    varying = [(name, param) for name, param in params if _varies(name, group)]
    if len(varying) == 1:
        name, param = varying[0]
        values = _values(group, name)
        ends = _run_ends(values, param)
        if ends and len(values) > 2:
            parts = [f"{other}={_range(param, ends) if other == name else _text(p, first._param_value(other))}"
                     for other, p in params]
            return f"{family}({', '.join(parts)})"
    if len(group) == 1:
        return text
    if len(group) == 2:
        return f"{text} and {first_two[1]!r}"
    return f"{text} ..."


def _text(param: Any, value: Any) -> str:
    return "" if value is None else param.serialize(value)


def _values(group: list[Any], name: str) -> set[Any]:
    try:
        return {step._param_value(name) for step in group}
    except TypeError:  # unhashable values: no ranges
        return set()


def _run_ends(values: set[Any], param: Any) -> tuple[Any, Any] | None:
    """(first, last) when ``values`` are one unbroken run of ``param.next_in_enumeration``."""
    if len(values) < 2:
        return None
    try:
        following = {param.next_in_enumeration(value) for value in values}
    except TypeError:
        return None
    starts, past_end = values - following, following - values
    if len(starts) != 1 or len(past_end) != 1:
        return None
    (start,), (beyond,) = starts, past_end
    last = next((value for value in values if param.next_in_enumeration(value) == beyond), None)
    return None if last is None else (start, last)


def _range(param: Any, ends: tuple[Any, Any]) -> str:
    return f"{_text(param, ends[0])}...{_text(param, ends[1])}"


def _value_list(group: list[Any], name: str, param: Any) -> str:
    """The values of the steps in text order, cut with ``...`` past about 30 characters."""
    ordered = heapq.nsmallest(_LISTED_AT_MOST, group, key=repr)
    row, total = "", len(group)
    for count, step in enumerate(ordered):
        if (len(row) >= 30 and count > 2 and count != total - 1) or len(row) > 200:
            return row + "..."
        row += _text(param, step._param_value(name)) + ("," if count < total - 1 else "")
    return row if len(ordered) == total else row + "..."


_LISTED_AT_MOST = 202  # values of at least one character and a comma pass 200 characters by then


def _varies(name: str, group: list[Any]) -> bool:
    """Whether parameter ``name`` differs within ``group``: stops at the first difference."""
    first = repr(group[0]._param_value(name))
    return any(repr(step._param_value(name)) != first for step in group)


RETCODE_DEFAULTS = {
    "task_failed": 1,
    "scheduling_error": 2,
    "missing_data": 3,
    "unhandled_exception": 4,
    "not_run": 5,
    "already_running": 6,
}


def _settings(worker: Any) -> Any:
    """The configuration the build was started with (its scheduler's), read at the edge."""
    return getattr(worker.scheduler, "config", None) or Configuration()


def exit_code(result: TrunqRunResult) -> int:
    """The largest code among the categories that apply (config ``[retcode]``)."""
    config = _settings(result.worker)

    def code(name: str) -> int:
        return config.getint("retcode", name, RETCODE_DEFAULTS[name]) or 0

    categories = result.categories
    codes = [0]
    if categories.get("failed"):
        codes.append(code("task_failed"))
    if categories.get("scheduling_error"):
        codes.append(code("scheduling_error"))
    if categories.get("still_pending_ext"):
        codes.append(code("missing_data"))
    if categories.get("not_run"):
        codes.append(code("not_run"))
    if max(codes) == 0 and categories.get("still_pending"):
        codes.append(code("not_run"))
    return max(codes)
