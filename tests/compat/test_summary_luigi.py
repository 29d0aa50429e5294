"""The execution summary's family lines beside luigi's: the same graphs built by both."""

from __future__ import annotations

import types
from pathlib import Path

import luigi
import pytest

import trunq


def _define(lib: types.SimpleNamespace) -> types.SimpleNamespace:
    class SumOne(lib.Step):
        n = lib.IntParameter()

        def output(self):
            return lib.Target(str(Path(lib.root) / f"one-{self.n}"))

        def run(self):
            self.output().open("w").close()

    class SumTwo(lib.Step):
        n = lib.IntParameter()
        tag = lib.Parameter(default="x")
        base = lib.Parameter(default="/data", significant=False)

        def output(self):
            return lib.Target(str(Path(lib.root) / f"two-{self.n}"))

        def run(self):
            self.output().open("w").close()

    class SumRoot(lib.Step):
        ones = lib.ListParameter()
        twos = lib.ListParameter()

        def requires(self):
            return [SumOne(n=n) for n in self.ones] + [SumTwo(n=n) for n in self.twos]

        def output(self):
            return lib.Target(str(Path(lib.root) / f"root-{len(self.ones)}-{len(self.twos)}"))

        def run(self):
            self.output().open("w").close()

    return types.SimpleNamespace(SumRoot=SumRoot)


def _lines(summary: str) -> list[str]:
    """The summary without banners, in trunq's words."""
    text = summary.replace("Luigi", "Trunq").replace("tasks", "steps").replace("task", "step")
    return [line for line in text.strip().splitlines() if "Execution Summary" not in line]


@pytest.mark.parametrize("ones, twos", [
    ([0, 1], [0, 1]),  # two values: listed, and "A and B"
    ([0, 1, 2], [0, 1, 2]),  # three: a list, and a range beside the insignificant parameter
    ([0, 1, 2, 3], [5, 6, 7, 8]),  # ranges
    ([5, 19, 24, 109, 123, 187, 202, 214, 222, 298], [1, 3]),  # in text order, cut at ~30 characters
])
def test_family_lines_match_luigi(tmp_path: Path, ones: list[int], twos: list[int]) -> None:
    libs = {}
    for name, module, step, target, params in (("luigi", luigi, luigi.Task, luigi.LocalTarget, luigi),
                                               ("trunq", trunq, trunq.Step, trunq.LocalTarget, trunq)):
        root = tmp_path / name
        root.mkdir()
        lib = types.SimpleNamespace(Step=step, Target=target, root=root, IntParameter=params.IntParameter,
                                    Parameter=params.Parameter, ListParameter=params.ListParameter)
        libs[name] = (_define(lib), module)
    results: dict[str, list[list[str]]] = {}
    for name, (classes, module) in libs.items():
        options = {"local_scheduler": True, "log_level": "CRITICAL"} if name == "luigi" else {}
        for _ in range(2):  # the second build: everything complete, "Did not run any steps"
            result = module.build([classes.SumRoot(ones=ones, twos=twos)], detailed_summary=True, **options)
            results.setdefault(name, []).append(_lines(result.summary_text))
    assert results["trunq"] == results["luigi"]
