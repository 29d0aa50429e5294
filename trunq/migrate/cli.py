"""``trunq migrate PATH [--out DIR] [--dry-run]``: rewrite a luigi project to trunq.

Prints one ``path:line: why`` line per thing left for a person, then a one-line summary. Exit
status 1 when anything needs attention, 0 when the whole project converted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _check_out(root: Path, out: Path) -> None:
    base = root if root.is_dir() else root.parent
    if out.resolve() == base.resolve() or base.resolve() in out.resolve().parents:
        raise click.UsageError(f"--out {out} is inside {root}: choose a directory outside the project")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise click.UsageError(f"--out {out} exists and is not an empty directory")


@click.command("migrate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Write a migrated copy of the tree to DIR; PATH is left untouched.")
@click.option("--dry-run", is_flag=True, help="Print a unified diff; change nothing.")
def migrate_command(path: Path, out: Path | None, dry_run: bool) -> None:
    """Rewrite the luigi project at PATH (a directory or one file) to trunq, in place by default."""
    try:
        import libcst  # noqa: F401
    except ImportError:
        raise click.ClickException("trunq migrate needs libcst: pip install 'trunq[migrate]'") from None
    from trunq.migrate.apply import apply_in_place, apply_to, diff
    from trunq.migrate.tree import migrate_tree

    if out is not None:
        _check_out(path, out)
    base = path if path.is_dir() else path.parent
    changes = migrate_tree(path)
    if dry_run:
        for change in changes:
            if change.changed:
                click.echo(diff(change), nl=False)
    elif out is not None:
        apply_to(base, out, changes)
    else:
        apply_in_place(base, changes)
    issues = [issue for change in changes for issue in change.issues]
    for issue in issues:
        click.echo(str(issue), err=dry_run)
    changed = sum(change.changed for change in changes)
    unchanged = len(changes) - changed
    verb = "would change" if dry_run else "changed"
    click.echo(f"trunq migrate: {changed} files {verb}, {unchanged} unchanged, "
               f"{len(issues)} items need attention", err=dry_run)
    sys.exit(1 if issues else 0)
