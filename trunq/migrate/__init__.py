"""``trunq migrate``: rewrite a luigi project to trunq.

Python files are rewritten on their concrete syntax tree (libcst), so comments and formatting
survive; config, shell, cron, Makefile, Dockerfile, YAML and dependency files are rewritten line
by line. What cannot be converted is reported as ``path:line: why``.
"""

from __future__ import annotations

from trunq.migrate.report import Issue

__all__ = ["Issue"]
