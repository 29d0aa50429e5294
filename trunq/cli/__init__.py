"""The ``trunq`` command line (click only): ``main`` parses and delegates to the rooms."""

from trunq.cli.commands import main

__all__ = ["main"]
