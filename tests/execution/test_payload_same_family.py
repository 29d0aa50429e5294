"""A worker that imported two modules defining the same family rebuilds the payload's own class
(luigi's examples/foo.py and execution_summary_example.py both define ``examples.Bar``)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from trunq.core import registry
from trunq.execution.payload import rebuild_step

MODULE = textwrap.dedent('''
    import trunq

    class SameFamilyBar(trunq.Step):
        num = trunq.IntParameter()
        origin = "{name}"
''')


@pytest.fixture
def two_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names = ["same_family_one", "same_family_two"]
    for name in names:
        (tmp_path / f"{name}.py").write_text(MODULE.format(name=name))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield names
    for name in names:
        sys.modules.pop(name, None)


def test_rebuild_picks_the_class_of_the_payload_module(two_modules: list[str]) -> None:
    for name in two_modules:
        __import__(name)
    with pytest.raises(registry.AmbiguousStepError):
        registry.get_step_cls("SameFamilyBar")
    for name in two_modules:
        step = rebuild_step({"module": name, "family": "SameFamilyBar", "params": {"num": "3"}})
        assert type(step).__module__ == name and step.origin == name and step.num == 3
