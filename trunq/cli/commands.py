"""The ``trunq`` command. It only parses and delegates.

``trunq MyStep --module m ...`` (no sub-command) is the same as ``trunq build MyStep ...``.
Sub-commands live next to the code they drive and are imported only when used, so that
``trunq build`` never pays for Flask or SQLAlchemy.
"""

from __future__ import annotations

import importlib
import sys

import click

# name -> (module, attribute, one-line help)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "build": ("trunq.cli.build", "build_command", "Run a step and everything it needs."),
    "builds": ("trunq.cli.builds", "builds_group", "List running and recent cluster builds."),
    "attach": ("trunq.cli.builds", "attach_command", "Follow a cluster build until it ends."),
    "cancel-build": ("trunq.cli.builds", "cancel_build_command", "Stop a cluster build."),
    "worker": ("trunq.tasks.cli", "worker_command", "Start a Celery worker (same as `celery -A trunq worker`)."),
    "server": ("trunq.cli.server", "server_command", "Start a local Redis for a one-machine cluster."),
    "message": ("trunq.tasks.cli", "message_command", "Send a message to a running step and print its answer."),
    "web": ("trunq.web.cli", "web_command", "Start the visualizer and message console."),
    "runs": ("trunq.runs.cli", "runs_command", "List recorded runs."),
    "logs": ("trunq.runs.cli", "logs_command", "Show the stdout/stderr of a run."),
    "cancel": ("trunq.runs.cli", "cancel_command", "Cancel a running run."),
    "tasklist": ("trunq.tasklist.cli", "tasklist_group", "Inspect and run a TaskList directory."),
    "schedule": ("trunq.cron", "schedule_group", "Run configured builds on cron expressions."),
    "migrate": ("trunq.migrate.cli", "migrate_command", "Rewrite a luigi project to trunq."),
    "reenable": ("trunq.cli.reenable", "reenable_command", "Re-enable steps disabled after too many failures."),
    "gc": ("trunq.cli.gc", "gc_command", "Forget the step records past retention in Redis."),
}


class TrunqGroup(click.Group):
    """A group whose default sub-command is ``build``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        spec = _COMMANDS.get(name)
        if spec is None:
            return None
        module, attribute, _ = spec
        try:
            return getattr(importlib.import_module(module), attribute)
        except ImportError as exc:  # an optional part that is not installed
            raise click.ClickException(f"'trunq {name}' is not available: {exc}") from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, spec[2]) for name, spec in _COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:  # as luigi's bare command: no step was named
            click.echo("trunq: error: no step family given (e.g. `trunq MyStep --module my_module`; "
                       "`trunq --help` lists the commands)", err=True)
            ctx.exit(2)
        if _wants_default_build(args):
            typo = _command_typo(args[0])
            if typo:
                click.echo(f"trunq: error: no command {args[0]!r}; did you mean {typo}?", err=True)
                ctx.exit(2)
            args = ["build", *args]
        return super().parse_args(ctx, args)


def _wants_default_build(args: list[str]) -> bool:
    """True when no sub-command is named, e.g. ``trunq --module m MyStep --x 1``."""
    if not args or args[0] in ("--help", "-h", "--version"):
        return False
    return args[0] not in _COMMANDS


def _command_typo(word: str) -> str | None:
    """The command a lowercase first word misspells (families are CamelCase: ``trunq MyStep``)."""
    if word.startswith("-") or word != word.lower() or not word.isidentifier():
        return None
    import difflib

    close = difflib.get_close_matches(word, list(_COMMANDS), n=1, cutoff=0.6)
    return close[0] if close else None


@click.group(cls=TrunqGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trunq", prog_name="trunq")
def cli() -> None:
    """trunq: build steps and their dependencies, locally or on Celery workers.

    \b
    trunq build MyStep --module my_module --x 1 --local-scheduler
    trunq --module my_module MyStep --x 1 --local-scheduler
    """


def main(argv: list[str] | None = None) -> None:
    from trunq.core.errors import TrunqError

    try:
        cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="trunq")
    except TrunqError as exc:  # a sub-command that let a user error through: one line, its code
        click.echo(f"trunq: error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
