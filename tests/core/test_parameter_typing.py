"""Parameters type-check as their values on a Step (mypy), at no runtime cost."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from mypy import api

import trunq
from trunq.core.parameters import base

ROOT = Path(__file__).resolve().parents[2]

SNIPPET = '''
import trunq

class Typed(trunq.Step):
    n = trunq.IntParameter()
    maybe = trunq.OptionalIntParameter()
    day = trunq.DateParameter()
    maybe_day = trunq.OptionalDateParameter()
    items = trunq.ListParameter()
    text = trunq.Parameter()
    ratio = trunq.FloatParameter()
    flag = trunq.BoolParameter()
    mapping = trunq.DictParameter()

    def run(self) -> None:
        reveal_type(self.n)
        reveal_type(self.maybe)
        reveal_type(self.day)
        reveal_type(self.maybe_day)
        reveal_type(self.items)
        reveal_type(self.text)
        reveal_type(self.ratio)
        reveal_type(self.flag)
        reveal_type(self.mapping)
        reveal_type(Typed.n)
'''

EXPECTED = [
    "int",
    "int | None",
    "datetime.date",
    "datetime.date | None",
    "tuple[Any, ...]",
    "str",
    "float",
    "bool",
    "trunq.core.parameters.frozen.FrozenOrderedDict",
    "trunq.core.parameters.scalar.IntParameter",
]


def _mypy(tmp_path: Path, source: str) -> tuple[str, int]:
    module = tmp_path / "snippet.py"
    module.write_text(textwrap.dedent(source))
    stdout, stderr, status = api.run([
        str(module), "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
        "--follow-imports", "silent", "--ignore-missing-imports", "--config-file", "",
        "--no-site-packages",  # trunq comes from MYPYPATH; third-party imports are Any
    ])
    return stdout + stderr, status


@pytest.fixture
def mypy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYPYPATH", str(ROOT))  # check this checkout's trunq, not an installed one


def test_step_parameters_reveal_their_value_types(tmp_path: Path, mypy_env: None) -> None:
    output, _ = _mypy(tmp_path, SNIPPET)
    revealed = re.findall(r'Revealed type is "(.*)"', output)
    assert revealed == EXPECTED, output


def test_wrong_use_of_a_parameter_value_is_an_error(tmp_path: Path, mypy_env: None) -> None:
    source = SNIPPET.split("    def run")[0] + '''
    def run(self) -> None:
        print(self.n + "x")
        print(self.day.year + 1)
'''
    output, status = _mypy(tmp_path, source)
    assert status == 1, output
    errors = [line for line in output.splitlines() if ": error:" in line]
    assert len(errors) == 1, output
    assert 'Unsupported operand types for + ("int" and "str")' in errors[0]


def test_runtime_lookup_is_unchanged() -> None:
    class Plain(trunq.Step):
        n = trunq.IntParameter(default=3)

    # No descriptor protocol at runtime: the class attribute is the Parameter, and the
    # instance's own __dict__ answers ``self.n`` directly.
    assert "__get__" not in vars(base.Parameter)
    assert not hasattr(trunq.IntParameter, "__get__")
    assert isinstance(Plain.n, trunq.IntParameter)
    step = Plain(n=5)
    assert step.n == 5 and step.__dict__["n"] == 5
    assert Plain().n == 3
