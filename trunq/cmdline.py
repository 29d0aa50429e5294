"""``trunq build``: parse ``[options] Family [--param value ...]`` and run the build.

Step parameters are known only after ``--module`` is imported, so the arguments are parsed
here rather than declared to click. Options may appear anywhere; step parameters follow the
family: ``--x 1`` for the root step, ``--Family-x 1`` for any step family.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import click

from trunq import registry

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
}

_HELP = """Usage: trunq [build] [OPTIONS] FAMILY [--PARAM VALUE ...]

Run the step FAMILY and everything it requires.

Options:
  --module MODULE                 Import MODULE to find step classes (repeatable).
  --local-scheduler               Run in this process; no Redis or Celery needed.
  --workers N                     Run up to N steps at once (worker processes).
  --no-lock                       Allow the same build to run twice at once on this machine.
  --log-level LEVEL               DEBUG, INFO, WARNING (default) or ERROR.
  --debug                         Show tracebacks of errors.
  --parallel-scheduling           Check completeness with several threads.
  --worker-force-multiprocessing  Run steps in worker processes even with --workers 1.
  --worker-timeout SECONDS        Kill a step that runs longer (per-step worker_timeout wins).
  --redis-url URL                 The Redis of the cluster (default $TRUNQ_REDIS_URL).
  --no-progress                   No progress line on the terminal.
  -h, --help                      Show this message, or the parameters of FAMILY.

Step parameters: --x VALUE for the root step, --Family-x VALUE for any family.
"""


class UsageError(Exception):
    """Arguments that do not make a build."""


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
        name, inline = (token.split("=", 1) + [None])[:2] if token.startswith("--") else (token, None)
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


def find_family(family: str) -> type:
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


def resolve_params(root: type, given: list[tuple[str, str | None]]) -> dict[str, dict[str, str]]:
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


def step_help(cls: type) -> str:
    family = cls.get_step_family()
    lines = [f"Usage: trunq build {family} [OPTIONS] [PARAMETERS]", ""]
    doc = (cls.__doc__ or "").strip()
    if doc and doc != (cls.__mro__[1].__doc__ or "").strip():
        lines.extend([doc.splitlines()[0], ""])
    lines.append("Parameters:")
    for name, param in cls.get_params():
        flag = f"--{name.replace('_', '-')}"
        kind = type(param).__name__.replace("Parameter", "").lower() or "str"
        default = ""
        if param.has_default:
            default = f" (default: {param.default if param.default is None else _show(param, param.default)})"
        elif not getattr(param, "is_optional", False):
            default = " (required)"
        text = param.help_text() if hasattr(param, "help_text") else (param.description or "")
        lines.append(f"  {flag} {kind.upper()}{default}" + (f"  {text}" if text else ""))
    lines.extend(["", f"Any family's parameter: --{family}-PARAM VALUE. Run `trunq build --help` for options."])
    return "\n".join(lines)


def _show(param: Any, value: Any) -> str:
    try:
        return param.serialize(value)
    except Exception:
        return repr(value)


def _setup_logging(level: str | None) -> None:
    name = (level or os.environ.get("TRUNQ_LOG_LEVEL") or "WARNING").upper()
    if name not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise UsageError(f"unknown log level {level!r} (use DEBUG, INFO, WARNING or ERROR)")
    logging.basicConfig(level=getattr(logging, name), format="%(levelname)s: %(message)s", stream=sys.stderr)


def run_build(args: list[str]) -> int:
    """The whole ``trunq build``; returns the exit status."""
    from trunq.config import ConfigError, get_config
    from trunq.execution_summary import exit_code
    from trunq.runner import schedule_and_run

    debug = "--debug" in args
    try:
        request = parse_build_args(args)
        if request.help and request.family is None:
            import_modules(request.modules)
            click.echo(_HELP + _known_families())
            return 0
        _setup_logging(request.env.pop("log_level", None))
        get_config()
        import_modules(request.modules)
        if request.help:
            click.echo(step_help(find_family(request.family or "")))
            return 0
        step = request.make_step()
        request.env.setdefault("no_lock", False)
        if "local_scheduler" not in request.env:  # the command line defaults to the cluster
            request.env["local_scheduler"] = get_config().getboolean("core", "local_scheduler", False)
        result = schedule_and_run([step], None, request.env)
    except Exception as exc:
        if debug:
            raise
        message = _known_error(exc, ConfigError)
        if message is None:
            raise
        click.echo(f"trunq: error: {message}", err=True)
        return 2 if not _is_already_running(exc) else 6
    click.echo(result.summary_text)
    return exit_code(result)


def _known_families() -> str:
    families = [f for f in registry.families() if not f.startswith("trunq.")]
    return "\nKnown step families: " + (", ".join(families) if families else "(none; use --module)")


def _is_already_running(exc: BaseException) -> bool:
    from trunq.runner import AlreadyRunningError

    return isinstance(exc, AlreadyRunningError)


def _known_error(exc: BaseException, config_error: type) -> str | None:
    """A one-line message for errors caused by the user's input or environment."""
    from trunq.parameter import ParameterException
    from trunq.resolver import DependencyCycleError
    from trunq.runner import AlreadyRunningError

    known: tuple[type[BaseException], ...] = (
        UsageError, registry.UnknownStepError, ParameterException, config_error,
        DependencyCycleError, AlreadyRunningError,
    )
    try:
        from trunq.scheduler.redis_store import StoreUnavailable

        known += (StoreUnavailable,)
    except ImportError:
        pass
    if isinstance(exc, known):
        return str(exc)
    if type(exc).__module__.startswith("redis"):
        return f"lost the connection to Redis: {exc}; outputs already written are kept, rerun to continue"
    return None


@click.command(
    "build",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def build_command(args: tuple[str, ...]) -> None:
    """Run a step and everything it needs."""
    sys.exit(run_build(list(args)))
