"""``trunq build``: the command line of a build, its help and its one-line errors."""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Any

import click

from trunq.config_compat import supported_only
from trunq.core.errors import TrunqError, UsageError
from trunq.execution.help import help_text
from trunq.execution.request import import_modules, parse_build_args
from trunq.procs import interrupt_on_sigterm, interrupt_signal


def _setup_logging(level: str | None, conf_file: str | None = None, configured: str | None = None) -> None:
    """``level`` (``--log-level``), else ``$TRUNQ_LOG_LEVEL``, else ``configured`` (``[core]
    log_level``), else WARNING; or luigi's ``[core] logging_conf_file``."""
    if conf_file:  # luigi's [core] logging_conf_file: a logging.config file replaces the defaults
        from logging import config as logging_config

        if not os.path.exists(conf_file):
            raise UsageError(f"logging config file not found: {conf_file}")
        logging_config.fileConfig(conf_file, disable_existing_loggers=False)
        return
    name = (level or os.environ.get("TRUNQ_LOG_LEVEL") or configured or "WARNING").upper()
    if name not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise UsageError(f"unknown log level {name!r} (use DEBUG, INFO, WARNING or ERROR)")
    logging.basicConfig(level=getattr(logging, name), format="%(levelname)s: %(message)s", stream=sys.stderr)


def run_build(args: list[str]) -> int:
    """The whole ``trunq build``; returns the exit status."""
    from trunq.config import get_config
    from trunq.execution.api import schedule_and_run
    from trunq.execution.summary import exit_code

    debug = "--debug" in args
    try:
        request = parse_build_args(args)
        if request.help and request.family is None:
            import_modules(request.modules)
            click.echo(help_text(request))
            return 0
        config = get_config()
        for section, options in supported_only(request.config).items():
            config.update_section(section, options)
        level = request.env.pop("log_level", None)
        if not config.getboolean("core", "no_configure_logging", False):  # else the program's own logging
            _setup_logging(level, config.get("core", "logging_conf_file"), config.get("core", "log_level"))
        import_modules(request.modules)
        if request.help:
            click.echo(help_text(request))
            return 0
        step = request.make_step()
        request.env.setdefault("no_lock", False)
        if "local_scheduler" not in request.env:  # the command line defaults to the cluster
            request.env["local_scheduler"] = get_config().getboolean("core", "local_scheduler", False)
        if request.env.pop("detach", False):
            return _detach(step, request.env)
        request.env["announce_build"] = True
        with interrupt_on_sigterm():
            result = schedule_and_run([step], None, request.env)
    except KeyboardInterrupt as exc:  # the steps, the pool and the lock were released on the way out
        signum = interrupt_signal(exc)
        click.echo(f"trunq: error: interrupted by {signal.Signals(signum).name}: running steps were stopped; "
                   "rerun to continue", err=True)
        return 128 + signum
    except Exception as exc:
        if debug:
            raise
        message, code = error_line(exc)
        if message is None:
            raise
        click.echo(f"trunq: error: {message}", err=True)
        return code
    click.echo(result.summary_text)
    if get_config().get("core", "logging_conf_file"):  # the user's logging places it too, as luigi's
        logging.getLogger("trunq").info("%s", result.summary_text)
    return exit_code(result)


def _detach(step: Any, env: dict[str, Any]) -> int:
    from trunq.execution.api import detach

    if env.get("local_scheduler"):
        raise UsageError("--detach hands the build to the cluster's workers: drop --local-scheduler")
    record = detach([step], env)
    click.echo(record.build_id)
    click.echo(f"build {record.build_id} queued; follow it with `trunq attach {record.build_id}`, "
               f"stop it with `trunq cancel-build {record.build_id}`", err=True)
    return 0


def error_line(exc: BaseException) -> tuple[str | None, int]:
    """The one line and exit status for an error the user caused; (None, 1) for a bug."""
    from trunq.parameter import ParameterException
    from trunq.scheduler.redis import OUT_OF_MEMORY, out_of_memory

    if isinstance(exc, TrunqError):
        return str(exc), exc.exit_code
    if isinstance(exc, ParameterException):
        return str(exc), 2
    if out_of_memory(exc):
        return f"Redis {OUT_OF_MEMORY} (outputs already written are kept)", 2
    if type(exc).__module__.startswith("redis"):
        return f"lost the connection to Redis: {exc}; outputs already written are kept, rerun to continue", 2
    return None, 1


@click.command(
    "build",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def build_command(args: tuple[str, ...]) -> None:
    """Run a step and everything it needs."""
    sys.exit(run_build(list(args)))
