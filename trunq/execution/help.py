"""``--help`` and ``--help-all`` of a build: the parameters a command line can set.

As luigi's: ``--help`` shows the root step's parameters (``--x`` and ``--Family-x``) and the
common options; ``--help-all`` shows every registered step's and Config's parameters. trunq's
``--help`` also lists the steps and Configs the root can reach, since ``--A-x`` sets them too.

"Reachable" is found two ways, neither running a step: the step classes and Configs
named in the methods of the root class and (transitively) of what they name, plus the graph
of ``requires()`` of the root instance when it can be built from the given parameters.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Iterator
from typing import Any

from trunq.core import registry
from trunq.core.graph import flatten
from trunq.core.step import Config, Step

# The options luigi always shows (its ``always_in_help``), and our one-line pointer to the rest.
COMMON_OPTIONS = (
    ("--local-scheduler", "Run in this process; no Redis or Celery needed."),
    ("--module MODULE", "Import MODULE to find step classes (repeatable)."),
    ("--workers N", "Run up to N steps at once."),
    ("--help", "Show the common options and the parameters this step can reach."),
    ("--help-all", "Show all options and the parameters of every registered step and Config."),
)
OPTIONS_HELP = """Usage: trunq [build] [OPTIONS] FAMILY [--PARAM VALUE ...]

Run the step FAMILY and everything it requires.

Options:
  --module MODULE                 Import MODULE to find step classes (repeatable).
  --local-scheduler               Run in this process; no Redis or Celery needed.
  --workers N                     Run up to N steps at once (worker processes).
  --no-lock                       Allow the same build to run twice at once on this machine.
  --lock-pid-dir DIR              Keep the build's lock file in DIR (default [core] lock_pid_dir,
                                  else $TMPDIR/trunq-locks). The lock dies with its holder.
  --take-lock                     Not supported (refused): stop the running build instead.
  --log-level LEVEL               DEBUG, INFO, WARNING (default) or ERROR.
  --debug                         Show tracebacks of errors.
  --parallel-scheduling           Check completeness with several threads.
  --worker-force-multiprocessing  Run steps in worker processes even with --workers 1.
  --worker-timeout SECONDS        Kill a step that runs longer (per-step worker_timeout wins).
  --redis-url URL                 The Redis of the cluster (default $TRUNQ_REDIS_URL).
  --no-progress                   No progress line on the terminal.
  --detach                        Queue the build for the cluster's workers and return its id at once.
  -h, --help                      Show this message, or the parameters of FAMILY.
  --help-all                      With FAMILY: every option and every registered step's parameters.

Step parameters: --x VALUE for the root step, --Family-x VALUE for any family.
"""
_MAX_GRAPH = 2000  # steps walked through requires() before the help stops looking further


def step_help(cls: type[Step], start: Step | None = None, help_all: bool = False) -> str:
    """The help of ``trunq build Family --help`` (``help_all``: of ``--help-all``)."""
    family = cls.get_step_family()
    lines = [f"Usage: trunq build {family} [OPTIONS] [PARAMETERS]", ""]
    doc = (cls.__doc__ or "").strip()
    if doc and doc != (cls.__mro__[1].__doc__ or "").strip():
        lines.extend([doc.splitlines()[0], ""])
    lines.append(f"Parameters of {family}:")
    lines.extend(_param_lines(cls, root=True) or ["  (none)"])
    others = all_classes() if help_all else reachable_classes(cls, start)
    others = [other for other in others if other is not cls]
    if others:
        title = "Parameters of every registered step and Config:" if help_all else \
            f"Parameters of the steps and Configs {family} can reach:"
        lines.extend(["", title])
        for other in others:
            lines.extend(_param_lines(other, root=False))
    if help_all:
        lines.extend(["", OPTIONS_HELP.rstrip(), "", _config_options()])
    else:
        lines.extend(["", "Options:"])
        lines.extend(f"  {flag:<20}{text}" for flag, text in COMMON_OPTIONS)
    return "\n".join(lines)


def _param_lines(cls: type[Step], root: bool) -> list[str]:
    lines = []
    for name, param in cls.get_params():
        dashed = name.replace("_", "-")
        flags = [f"--{dashed}"] if root or not _in_section(cls) else []
        if _in_section(cls):
            flags.append(f"--{cls.get_step_family()}-{dashed}")
        kind = (type(param).__name__.replace("Parameter", "") or "str").upper()
        owner = "" if root or _in_section(cls) else f"  [{cls.get_step_family()}]"
        lines.append(f"  {', '.join(flags)} {kind}{_default(param)}{owner}")
        text = param.help_text() if hasattr(param, "help_text") else (param.description or "")
        if text:
            lines.append(f"      {text}")
    return lines


def _in_section(cls: type[Step]) -> bool:
    """False for a Config whose parameters are set without its name (``--retries 7``)."""
    return bool(getattr(cls, "use_cmdline_section", True))


def _default(param: Any) -> str:
    if param.has_default:
        if param.default is None:
            return " (default: None)"
        try:
            return f" (default: {param.serialize(param.default)})"
        except Exception:
            return f" (default: {param.default!r})"
    return "" if getattr(param, "is_optional", False) else " (required)"


def all_classes() -> list[type[Step]]:
    """One class per registered family that has parameters, in family order."""
    found = []
    for family in registry.families():
        try:
            cls = registry.get_step_cls(family)
        except registry.AmbiguousStepError:
            continue
        if cls.get_params():
            found.append(cls)
    return found


def reachable_classes(root: type[Step], start: Step | None = None) -> list[type[Step]]:
    """The step classes and Configs ``root`` can reach, sorted by family; only those with parameters."""
    known = set(registry.families())
    seen: dict[str, type[Step]] = {}
    pending = [root, *_graph_classes(start)]
    while pending:
        cls = pending.pop()
        family = cls.get_step_family()
        if family in seen:
            continue
        seen[family] = cls
        pending.extend(_named_classes(cls, known))
    return [seen[family] for family in sorted(seen) if seen[family].get_params()]


def _named_classes(cls: type[Step], known: set[str]) -> Iterator[type[Step]]:
    """Step classes and Configs named in the code of ``cls`` (and its bases) or its parameters."""
    for base in cls.__mro__:
        if base in (Step, Config, object) or not isinstance(base, type):
            continue
        module_globals = vars(sys.modules.get(base.__module__, types))
        for value in vars(base).values():
            for name in _code_names(value):
                found = module_globals.get(name) or _family_class(name, known)
                if isinstance(found, type) and issubclass(found, Step) and found not in (Step, Config):
                    yield found
    for _, param in cls.get_params():  # ``TaskParameter(default=A)``, ``@requires``-style defaults
        default = getattr(param, "default", None) if param.has_default else None
        if isinstance(default, type) and issubclass(default, Step):
            yield default


def _family_class(name: str, known: set[str]) -> type[Step] | None:
    """The class of family ``name`` (``module.A()`` names only ``A``), when registered."""
    if name not in known:
        return None
    try:
        return registry.get_step_cls(name)
    except registry.AmbiguousStepError:
        return None


def _code_names(value: Any) -> Iterator[str]:
    function = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
    if isinstance(function, property):
        function = function.fget
    code = getattr(function, "__code__", None)
    stack = [code] if isinstance(code, types.CodeType) else []
    while stack:
        current = stack.pop()
        yield from current.co_names
        yield from current.co_freevars
        stack.extend(const for const in current.co_consts if isinstance(const, types.CodeType))


def _graph_classes(start: Step | None) -> Iterable[type[Step]]:
    """The classes in the ``requires()`` graph of the root instance (None: it could not be made)."""
    if start is None:
        return []
    seen: dict[str, Step] = {}
    pending = [start]
    while pending and len(seen) < _MAX_GRAPH:
        step = pending.pop()
        if step.step_id in seen:
            continue
        seen[step.step_id] = step
        try:
            pending.extend(dep for dep in flatten(step.requires()) if isinstance(dep, Step))
        except Exception:  # a requires() that needs the world: keep what was found
            continue
    return [type(step) for step in seen.values()]


def help_text(request: Any) -> str:
    """The help a build request asks for; its modules are imported already."""
    from trunq.execution.request import find_family

    if request.family is None:
        return OPTIONS_HELP + known_families()
    cls = find_family(request.family or "")
    try:  # with the parameters given, requires() shows the graph; without, the code must do
        start = request.make_step()
    except Exception:
        start = None
    finally:
        registry.cli_overrides.clear()
        registry.clear_instance_cache()
    return step_help(cls, start, help_all=request.help_all)


def _config_options() -> str:
    """luigi's ``--section-key`` spellings of the config options trunq reads."""
    from trunq.config_compat import SUPPORTED, is_flag

    lines = ["Config options (also settable in trunq.toml / luigi.cfg):"]
    for section, keys in SUPPORTED.items():
        for key in sorted(keys):
            flag = f"--{section}-{key.replace('_', '-')}" + ("" if is_flag(section, key) else " VALUE")
            lines.append(f"  {flag:<38}[{section}] {key}")
    return "\n".join(lines)


def known_families() -> str:
    families = [f for f in registry.families() if not f.startswith("trunq.") and not _trunq_class(f)]
    return "\nKnown step families: " + (", ".join(families) if families else "(none; use --module)")


def _trunq_class(family: str) -> bool:
    """trunq's own base classes (Config, ExternalStep, ...) are no steps to build."""
    try:
        return registry.get_step_cls(family).__module__.startswith("trunq.")
    except registry.AmbiguousStepError:
        return False
