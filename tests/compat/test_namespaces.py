"""Namespaces, families and luigi's spellings as luigi has them."""

from __future__ import annotations

import warnings

import pytest

import trunq
from trunq.core import compat, registry


@pytest.fixture(autouse=True)
def fresh_warnings() -> None:
    compat._warned.clear()


def test_namespace_is_inherited_and_family_is_a_class_string() -> None:
    class Base(trunq.Step):
        step_namespace = "inh"

    class Child(Base):
        pass

    class Own(Base):
        step_namespace = "other"

    assert Child.step_family == "inh.Child"
    assert Child().step_family == "inh.Child"
    assert Own.step_family == "other.Own"
    assert Child.get_step_namespace() == "inh"
    assert registry.get_step_cls("inh.Child") is Child


def test_luigi_task_namespace_spelling_warns_once() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        class Old(trunq.Step):
            task_namespace = "legacy"

        class Old2(trunq.Step):
            task_namespace = "legacy"

        assert Old.step_family == "legacy.Old"
        assert Old.task_family == "legacy.Old"
        assert Old.get_task_namespace() == "legacy"
    messages = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert sum(m.startswith("task_namespace") for m in messages) == 1
    assert any("step_family" in m for m in messages)
    assert any("get_step_namespace" in m for m in messages)


def test_task_parameter_alias() -> None:
    with pytest.warns(DeprecationWarning, match="StepParameter"):
        alias = trunq.TaskParameter
    assert alias is trunq.StepParameter


def test_externalize_keeps_the_original_registered() -> None:
    class Original(trunq.Step):
        step_namespace = "ext"

        def run(self) -> None:
            pass

    copy = trunq.core.step.externalize(Original)
    assert copy.step_family == "ext.Original"
    assert registry.get_step_cls("ext.Original") is Original
    assert copy.run is None and Original.run is not None
