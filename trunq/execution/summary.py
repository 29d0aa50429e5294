"""What happened in a build: categories, the summary text, the status and the exit code.

The text follows luigi's execution summary: a banner, ``Scheduled N steps of which:``,
one ``* <count> <phrase>:`` header per category in a fixed order, one ``- <count>
Family(params)`` line per family, then ``This progress looks :) because ...``.
"""

from __future__ import annotations

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
    smiley, reason = status.value
    lines = [BANNER, ""]
    if total == 0:
        lines.append("Did not schedule any steps")
    else:
        lines.append(f"Scheduled {total} steps of which:")
        limit = _settings(worker).getint("execution_summary", "summary_length", 5) or 5
        for name, phrase, level in _CATEGORIES:
            steps = categories.get(name)
            if not steps:
                continue
            indent = "    " * level
            lines.append(f"{indent}* {len(steps)} {phrase}:")
            if name != "still_pending":
                lines.extend(f"{indent}    - {line}" for line in family_lines(steps, limit))
        if not categories.get("completed") and not categories.get("failed"):
            lines.extend(["", "Did not run any steps"])
        lines.extend(_disabled_lines(worker))
    lines.extend(["", f"This progress looks {smiley} because {reason}", "", BANNER])
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
    by_family: dict[str, list[Any]] = defaultdict(list)
    for step in steps:
        by_family[step.step_family].append(step)
    lines = [f"{len(group)} {describe_group(family, group)}" for family, group in sorted(by_family.items())]
    if len(lines) > limit:
        lines = lines[:limit] + ["..."]
    return lines


def describe_group(family: str, group: list[Any]) -> str:
    """``Family(a=1, n=1...7)`` when only one parameter varies; ``Family(first) ...`` otherwise."""
    first = group[0]
    if len(group) == 1:
        return _short(repr(first), family)
    params = [(name, p) for name, p in first.get_params() if p.significant and p.visibility != ParameterVisibility.PRIVATE]
    varying = [name for name, _ in params if _varies(name, group)]
    if len(varying) != 1:
        return _short(repr(first), family) + " ..."
    parts = []
    for name, param in params:
        if name == varying[0]:
            parts.append(f"{name}={_value_range(param, [s._param_value(name) for s in group])}")
        else:
            value = first._param_value(name)
            parts.append(f"{name}={'' if value is None else param.serialize(value)}")
    return _short(f"{family}({', '.join(parts)})", family)


def _varies(name: str, group: list[Any]) -> bool:
    """Whether parameter ``name`` differs within ``group``: stops at the first difference
    (a set of every value's repr would cost a million strings at the end of a big build)."""
    first = repr(group[0]._param_value(name))
    return any(repr(step._param_value(name)) != first for step in group)


def _value_range(param: Any, values: list[Any]) -> str:
    try:
        ordered = sorted(set(values))
    except TypeError:
        return ",".join(param.serialize(v) for v in values)
    consecutive = all(param.next_in_enumeration(a) == b for a, b in zip(ordered, ordered[1:]))
    if consecutive and len(ordered) > 1:
        return f"{param.serialize(ordered[0])}...{param.serialize(ordered[-1])}"
    return ",".join(param.serialize(v) for v in ordered)


def _short(text: str, family: str, width: int = 140) -> str:
    return text if len(text) <= width else f"{family}(...)"


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
