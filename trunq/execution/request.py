"""A build request: parse ``[options] Family [--param value ...]`` into a root step.

Step parameters are known only after ``--module`` is imported, so the arguments are parsed
here rather than declared to click. Options may appear anywhere; step parameters follow the
family: ``--x 1`` for the root step, ``--Family-x 1`` for any step family.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trunq.config_compat import is_flag, section_option
from trunq.core import registry
from trunq.core.errors import UsageError

if TYPE_CHECKING:
    from trunq.core.step import Step

# option -> (env key, takes a value)
_OPTIONS: dict[str, tuple[str, bool]] = {
    "--module": ("module", True),
    "--local-scheduler": ("local_scheduler", False),
    "--workers": ("workers", True),
    "--no-lock": ("no_lock", False),
    "--take-lock": ("take_lock", False),
    "--lock-pid-dir": ("lock_pid_dir", True),
    "--log-level": ("log_level", True),
    "--debug": ("debug", False),
    "--parallel-scheduling": ("parallel_scheduling", False),
    "--worker-force-multiprocessing": ("worker_force_multiprocessing", False),
    "--worker-timeout": ("worker_timeout", True),
    "--redis-url": ("redis_url", True),
    "--no-progress": ("no_progress", False),
    "--detach": ("detach", False),
}



@dataclass
class BuildRequest:
    family: str | None = None
    modules: list[str] = field(default_factory=list)
    env: dict[str, Any] = field(default_factory=dict)
    params: list[tuple[str, str | None]] = field(default_factory=list)  # (--name, value or None)
    help: bool = False
    help_all: bool = False
    debug: bool = False
    config: dict[str, dict[str, Any]] = field(default_factory=dict)  # luigi's --Section-key form

    def make_step(self) -> Any:
        if self.family is None:
            if self.params:  # the options before a step name that never came
                raise UsageError(f"unknown option {self.params[0][0]} and no step family given "
                                 "(e.g. `trunq build MyStep --module my_module`)")
            raise UsageError("no step family given (e.g. `trunq build MyStep --module my_module`)")
        cls = find_family(self.family)
        root, families = resolve_params(cls, self.params)
        registry.cli_overrides.clear()
        registry.cli_overrides.update(families)
        registry.clear_instance_cache()
        # As luigi: ``--x`` belongs to the root instance only; ``--Family-x`` to every instance.
        params = dict(cls.get_params())
        kwargs = {name: _parse_root(cls, name, params[name], text) for name, text in root.items()}
        return cls(**kwargs)


def _parse_root(cls: Any, name: str, param: Any, text: str) -> Any:
    try:
        return param.parse(text)
    except ValueError as exc:
        raise UsageError(f"invalid value {text!r} for --{name.replace('_', '-')} of "
                         f"{cls.get_step_family()}: {exc}") from None


def parse_build_args(args: list[str]) -> BuildRequest:
    request = BuildRequest()
    position = 0
    while position < len(args):
        token = args[position]
        position += 1
        name, has_value, text = token.partition("=") if token.startswith("--") else (token, "", "")
        inline: str | None = text if has_value else None
        if token in ("-h", "--help", "--help-all"):
            request.help = True
            request.help_all = request.help_all or token == "--help-all"
        elif name in _OPTIONS:
            position = _take_option(request, args, position, name, inline)
        elif token.startswith("--") and section_option(name) is not None and not _is_step_param(request, name):
            position = _take_config_option(request, args, position, name, inline)
        elif token.startswith("--"):
            position = _take_step_param(request, args, position, name, inline)
        elif token.startswith("-"):
            raise UsageError(f"unknown option {token}")
        elif request.family is None:
            request.family = token
        else:
            raise UsageError(f"unexpected argument {token!r} (only one step family per build)")
    request.debug = bool(request.env.pop("debug", False))
    if request.env.pop("no_progress", False):
        request.env["progress"] = False
    return request


def _next_value(args: list[str], position: int, name: str) -> tuple[str, int]:
    if position >= len(args):
        raise UsageError(f"option {name} needs a value")
    return args[position], position + 1


def _take_option(request: BuildRequest, args: list[str], position: int, name: str, inline: str | None) -> int:
    """A build option (``--workers 2``, ``--local-scheduler``); returns the next position."""
    key, takes_value = _OPTIONS[name]
    if not takes_value:
        request.env[key] = True
        return position
    if inline is None:
        inline, position = _next_value(args, position, name)
    _store_option(request, key, inline)
    return position


def _take_config_option(request: BuildRequest, args: list[str], position: int, name: str,
                        inline: str | None) -> int:
    """luigi's ``--section-key value`` config override (``--worker-keep-alive``, ...)."""
    section, key = section_option(name)  # type: ignore[misc]
    value = inline
    if value is None and not is_flag(section, key):
        value, position = _next_value(args, position, name)
    request.config.setdefault(section, {})[key] = "true" if value is None else value
    return position


def _take_step_param(request: BuildRequest, args: list[str], position: int, name: str,
                     inline: str | None) -> int:
    """``--x value`` (the root) or ``--Family-x value``; a flag when no value follows."""
    value = inline
    if value is None and request.family is None and not _positional_after(args, position + 1):
        pass  # the next word is the step family, so this option is a flag
    elif value is None and position < len(args) and not args[position].startswith("--"):
        value, position = args[position], position + 1
    request.params.append((name, value))
    return position


def _is_step_param(request: BuildRequest, name: str) -> bool:
    """A root step parameter named like ``--worker-x`` stays the step's (needs --module first)."""
    if request.family is None or request.family not in registry.families():
        return False
    return name[2:].replace("-", "_") in dict(registry.get_step_cls(request.family).get_params())


def _positional_after(args: list[str], start: int) -> bool:
    """Whether a bare word (not an option's value) appears at or after ``start``."""
    for index in range(start, len(args)):
        word, before = args[index], args[index - 1]
        if not word.startswith("-") and not (before.startswith("--") and "=" not in before):
            return True
    return False


def _store_option(request: BuildRequest, key: str, value: str) -> None:
    if key == "module":
        request.modules.append(value)
    elif key == "workers":
        try:
            workers = int(value)
        except ValueError:
            raise UsageError(f"--workers needs a whole number, got {value!r}") from None
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, got {value!r}")
        request.env["workers"] = workers
    elif key == "worker_timeout":
        try:
            request.env["worker_timeout"] = float(value)
        except ValueError:
            raise UsageError(f"--worker-timeout needs a number of seconds, got {value!r}") from None
    else:
        request.env[key] = value


def import_modules(modules: list[str]) -> None:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name) and not _user_frames(exc):
                raise UsageError(f"cannot import module {module!r}: {exc}") from None
            raise UsageError(_import_failure(module, exc)) from exc
        except Exception as exc:  # the user's module is broken: show where, in their code only
            raise UsageError(_import_failure(module, exc)) from exc


_TRUNQ_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_IMPORTLIB_DIR = os.path.dirname(importlib.__file__)


def _user_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """The frames of a traceback that are neither trunq's nor the import machinery's."""
    return [frame for frame in traceback.extract_tb(exc.__traceback__)
            if not frame.filename.startswith(("<frozen", _TRUNQ_DIR, _IMPORTLIB_DIR))]


def _import_failure(module: str, exc: BaseException) -> str:
    lines = [f"cannot import module {module!r}:"]
    lines += [line.rstrip("\n") for line in traceback.format_list(_user_frames(exc))]
    lines += [line.rstrip("\n") for line in traceback.format_exception_only(type(exc), exc)]
    return "\n".join(lines)


def find_family(family: str) -> type[Step]:
    try:
        return registry.get_step_cls(family)
    except registry.UnknownStepError:
        if family not in registry.families():
            # the range tools load only when needed: when named, or as "did you mean" candidates
            importlib.import_module("trunq.tools.range")
            if family in registry.families():
                return registry.get_step_cls(family)
        if "." in family:  # ``package.module.Family``
            module, _, name = family.rpartition(".")
            try:
                importlib.import_module(module)
                return registry.get_step_cls(name)
            except (ImportError, registry.UnknownStepError):
                pass
    return registry.get_step_cls(family)  # the error again, now suggesting the range tools too


def resolve_params(root: type[Step], given: list[tuple[str, str | None]]
                   ) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Split ``--x`` (root instance) from ``--Family-x`` (every instance of Family).

    Returns ``({param: text}, {family: {param: text}})``; unknown names are errors.
    """
    root_values: dict[str, str] = {}
    overrides: dict[str, dict[str, str]] = {}
    root_family = root.get_step_family()
    root_params = dict(root.get_params())
    for option, value in given:
        name = option[2:]
        family, param_name = None, name.replace("-", "_")
        params = root_params
        if param_name not in params:
            family, param_name, params = _class_level(name, option, root_family)
        parameter = params[param_name]
        if value is None:
            if not getattr(parameter, "is_bool", False):
                raise UsageError(f"parameter {option} needs a value")
            value = "true"
        if family is None:
            root_values[param_name] = value
        else:
            overrides.setdefault(family, {})[param_name] = value
    return root_values, overrides


def _class_level(name: str, option: str, root_family: str) -> tuple[str, str, dict[str, Any]]:
    for family in sorted(registry.families(), key=len, reverse=True):
        if name.startswith(family + "-"):
            param_name = name[len(family) + 1:].replace("-", "_")
            params = dict(registry.get_step_cls(family).get_params())
            if param_name in params:
                return family, param_name, params
    bare = name.replace("-", "_")
    for family in registry.families():  # luigi's ``use_cmdline_section = False``: ``--retries 7``
        try:
            cls = registry.get_step_cls(family)
        except registry.AmbiguousStepError:  # an unrelated family's problem, not this option's
            continue
        if not getattr(cls, "use_cmdline_section", True) and bare in dict(cls.get_params()):
            return family, bare, dict(cls.get_params())
    raise UsageError(f"unknown parameter {option} for {root_family}")
