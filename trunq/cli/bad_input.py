"""``BadInput``: a one-line user error that exits 2, as click's own usage errors do.

Every bad-input problem (an option value, a config value, a named run or directory that does
not exist) exits 2; 1 is kept for work that ran and failed.
"""

from __future__ import annotations

import click


class BadInput(click.ClickException):
    exit_code = 2
