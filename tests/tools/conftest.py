"""The recurring-steps project and its ``trunq`` runner (tests/support/recurring.py)."""

from tests.support.recurring import run_trunq, spawned, workdir  # noqa: F401  (fixtures)
