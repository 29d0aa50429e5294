"""Status rules written once (status_rules.py) and applied alike by both stores."""

from __future__ import annotations

from trunq.core.status import Status
from trunq.scheduler.status_rules import ON_RE_ENABLE, ON_REGISTER, re_enabled_status, registered_status


def test_register_rule():
    assert registered_status(Status.RUNNING, leased=True, disabled=False) == Status.RUNNING
    assert registered_status(Status.FAILED, leased=False, disabled=True) == Status.DISABLED
    assert registered_status(Status.DONE, leased=False, disabled=False) == Status.PENDING
    assert registered_status(None, leased=True, disabled=False) == Status.PENDING  # a new step
    assert set(ON_REGISTER) == {"leased", "disabled", "other"}


def test_re_enable_rule():
    assert ON_RE_ENABLE == (Status.DISABLED, Status.FAILED)
    assert re_enabled_status(Status.DISABLED) == Status.FAILED
    assert re_enabled_status(Status.DONE) is None
