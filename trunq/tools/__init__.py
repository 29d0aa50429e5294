"""Reusable steps built on the core engine: the range tools of ``trunq.tools.range``."""
