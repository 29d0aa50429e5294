"""Family lookups: definitions in two files are ambiguous; redefining in one file replaces."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import trunq
from trunq.core import registry
from trunq.core.errors import AmbiguousStepError


def test_redefinition_in_one_file_replaces() -> None:
    class FaultsLocalTwice(trunq.Step):
        pass

    first = FaultsLocalTwice

    class FaultsLocalTwice(trunq.Step):  # noqa: F811 - the point of the test
        pass

    assert registry.get_step_cls("FaultsLocalTwice") is FaultsLocalTwice is not first


def test_two_files_are_ambiguous_and_name_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "import trunq\n\nclass FaultsTwin(trunq.Step):\n    pass\n"
    (tmp_path / "faults_twin_a.py").write_text(body)
    (tmp_path / "faults_twin_b.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("faults_twin_a")
    importlib.import_module("faults_twin_b")
    try:
        with pytest.raises(AmbiguousStepError) as caught:
            registry.get_step_cls("FaultsTwin")
        message = str(caught.value)
        assert "faults_twin_a:FaultsTwin" in message and "faults_twin_b:FaultsTwin" in message
        assert "faults_twin_a.py:3" in message and caught.value.exit_code == 2
    finally:
        registry._families.pop("FaultsTwin", None)
        sys.modules.pop("faults_twin_a", None)
        sys.modules.pop("faults_twin_b", None)


def test_reloading_a_module_is_not_ambiguous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "faults_reloaded.py").write_text("import trunq\n\nclass FaultsReloaded(trunq.Step):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("faults_reloaded")
    module = importlib.reload(module)
    try:
        assert registry.get_step_cls("FaultsReloaded") is module.FaultsReloaded
    finally:
        sys.modules.pop("faults_reloaded", None)


def test_an_unrelated_ambiguous_family_does_not_hide_an_unknown_parameter(tmp_path: Path) -> None:
    """`trunq build Good --typo 1` names the typo even when two other files define one family."""
    twin = "import trunq\n\nclass Twin(trunq.Step):\n    pass\n"
    (tmp_path / "twin_a.py").write_text(twin)
    (tmp_path / "twin_b.py").write_text(twin)
    (tmp_path / "good.py").write_text("import trunq\nimport twin_a, twin_b  # noqa\n\n"
                                      "class Good(trunq.Step):\n    x = trunq.IntParameter()\n")
    trunq_bin = str(Path(sys.executable).with_name("trunq"))
    result = subprocess.run([trunq_bin, "build", "--module", "good", "Good", "--x", "1", "--typo", "2",
                             "--local-scheduler"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    assert "unknown parameter --typo" in result.stderr and "Traceback" not in result.stderr
