"""A build request: parse ``[options] Family [--param value ...]`` into a root step.

Step parameters are known only after ``--module`` is imported, so the arguments are parsed
here rather than declared to click. Options may appear anywhere; step parameters follow the
family: ``--x 1`` for the root step, ``--Family-x 1`` for any step family.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    "--detailed-summary": ("detailed_summary", False),
    "--detach": ("detach", False),
}



@dataclass
class BuildRequest:
    family: str | None = None
    modules: list[str] = field(default_factory=list)
    env: dict[str, Any] = field(default_factory=dict)
    params: list[tuple[str, str | None]] = field(default_factory=list)  # (--name, value or None)
    help: bool = False
    debug: bool = False

    def make_step(self) -> Any:
        if self.family is None:
            raise UsageError("no step family given (e.g. `trunq build MyStep --module my_module`)")
        cls = find_family(self.family)
        registry.cli_overrides.clear()
        registry.cli_overrides.update(resolve_params(cls, self.params))
        registry.clear_instance_cache()
        return cls()


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
        elif name in _OPTIONS:
            key, takes_value = _OPTIONS[name]
            if takes_value:
                if inline is None:
                    if position >= len(args):
                        raise UsageError(f"option {name} needs a value")
                    inline = args[position]
                    position += 1
                _store_option(request, key, inline)
            else:
                request.env[key] = True
        elif token.startswith("--"):
            if request.family is None:
                raise UsageError(f"unknown option {name} (step parameters go after the step family)")
            value = inline
            if value is None and position < len(args) and not args[position].startswith("--"):
                value = args[position]
                position += 1
            request.params.append((name, value))
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


def _store_option(request: BuildRequest, key: str, value: str) -> None:
    if key == "module":
        request.modules.append(value)
    elif key == "workers":
        try:
            request.env["workers"] = int(value)
        except ValueError:
            raise UsageError(f"--workers needs a whole number, got {value!r}") from None
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
        except ImportError as exc:
            raise UsageError(f"cannot import module {module!r}: {exc}") from None


def find_family(family: str) -> type[Step]:
    try:
        return registry.get_step_cls(family)
    except registry.UnknownStepError:
        if family.startswith("Range"):  # the range tools load only when named
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
        raise


def resolve_params(root: type[Step], given: list[tuple[str, str | None]]) -> dict[str, dict[str, str]]:
    """Map ``--x`` / ``--Family-x`` to ``{family: {param: text}}``; unknown names are errors."""
    overrides: dict[str, dict[str, str]] = {}
    root_family = root.get_step_family()
    root_params = dict(root.get_params())
    for option, value in given:
        name = option[2:]
        family, param_name = root_family, name.replace("-", "_")
        params = root_params
        if param_name not in params:
            family, param_name, params = _class_level(name, option, root_family)
        parameter = params[param_name]
        if value is None:
            if not getattr(parameter, "is_bool", False):
                raise UsageError(f"parameter {option} needs a value")
            value = "true"
        overrides.setdefault(family, {})[param_name] = value
    return overrides


def _class_level(name: str, option: str, root_family: str) -> tuple[str, str, dict[str, Any]]:
    for family in sorted(registry.families(), key=len, reverse=True):
        if name.startswith(family + "-"):
            param_name = name[len(family) + 1:].replace("-", "_")
            params = dict(registry.get_step_cls(family).get_params())
            if param_name in params:
                return family, param_name, params
    raise UsageError(f"unknown parameter {option} for {root_family}")
