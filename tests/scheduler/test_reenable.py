"""`trunq reenable`: bad input is one line; the helper re-enables by id and by family."""

from __future__ import annotations

import subprocess

from trunq.cli.reenable import reenable
from trunq.core.status import Status
from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.state import StepRecord


def test_without_a_step_or_family_it_is_a_usage_error():
    result = subprocess.run(["trunq", "reenable"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "trunq: error: name a STEP_ID or --family FAMILY to re-enable"


def test_reenable_by_id_and_by_family_turns_disabled_into_failed():
    store = MemoryStateStore()
    store.register([StepRecord(step_id=f"A({n})", family="A") for n in range(3)]
                   + [StepRecord(step_id="B()", family="B")])
    for step_id in ("A(0)", "A(1)", "B()"):
        store.disable(step_id, 60)
    assert reenable(store, ["B()", "A(2)"], None) == ["B()"]  # A(2) was never disabled
    assert sorted(reenable(store, [], "A")) == ["A(0)", "A(1)"]
    assert [store.get(s).status for s in ("A(0)", "A(1)", "A(2)", "B()")] == [
        Status.FAILED, Status.FAILED, Status.PENDING, Status.FAILED]
    assert store.disabled(["A(0)", "B()"]) == [False, False]
