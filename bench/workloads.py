"""The core benchmark workloads, written once for trunq and once for luigi.

Every step is trivial: it writes a tiny file target. ``make_root(kind, n, out)`` returns the
root step of a workload of about ``n`` steps:

- chain:    step i requires step i-1;
- fanin:    one WrapperStep requiring n independent steps;
- layered:  layers of width W (100), each step requiring 3 steps of the previous layer;
- complete: a WrapperStep over n steps whose outputs already exist;
- cpu:      the layered graph, but each step first burns CPU_SECONDS (20 ms) of CPU in pure
            Python (what ``--workers 2`` should nearly halve).
"""

from __future__ import annotations

import functools
import os
import time

WIDTH = 100
CPU_SECONDS = 0.020


def burn_cpu(seconds: float = CPU_SECONDS) -> int:
    """Busy-loop in Python for ``seconds`` of this thread's CPU time (holds the GIL)."""
    deadline = time.thread_time() + seconds
    spins = 0
    while time.thread_time() < deadline:
        spins += sum(range(200))
    return spins


def define(api, wrapper_base, target_cls):
    """Define the step classes against a luigi-like API (trunq or luigi)."""
    step_base = getattr(api, "Step", None) or api.Task
    int_param, str_param = api.IntParameter, api.Parameter

    class Leaf(step_base):
        n = int_param()
        out = str_param(significant=False)

        def output(self):
            return target_cls(os.path.join(self.out, "leaf", str(self.n)))

        def run(self):
            with self.output().open("w") as f:
                f.write("x")

    class Chain(step_base):
        n = int_param()
        out = str_param(significant=False)

        def requires(self):
            return Chain(n=self.n - 1, out=self.out) if self.n > 0 else []

        def output(self):
            return target_cls(os.path.join(self.out, "chain", str(self.n)))

        def run(self):
            with self.output().open("w") as f:
                f.write("x")

    class Layer(step_base):
        layer = int_param()
        i = int_param()
        out = str_param(significant=False)
        folder = "layer"

        def requires(self):
            if self.layer == 0:
                return []
            return [type(self)(layer=self.layer - 1, i=(self.i + k) % WIDTH, out=self.out) for k in range(3)]

        def output(self):
            return target_cls(os.path.join(self.out, self.folder, str(self.layer), str(self.i)))

        def run(self):
            with self.output().open("w") as f:
                f.write("x")

    class CpuLayer(Layer):
        """The same graph, each step burning 20 ms of CPU first."""

        folder = "cpu"

        def run(self):
            burn_cpu()
            super().run()

    class FanIn(wrapper_base):
        n = int_param()
        out = str_param(significant=False)

        def requires(self):
            return [Leaf(n=i, out=self.out) for i in range(self.n)]

    class LayeredTop(wrapper_base):
        n = int_param()
        out = str_param(significant=False)
        layer_cls = Layer

        def requires(self):
            return [self.layer_cls(layer=self.n // WIDTH - 1, i=i, out=self.out) for i in range(WIDTH)]

    class CpuTop(LayeredTop):
        layer_cls = CpuLayer

    return functools.partial(_make_root, Chain, LayeredTop, FanIn, CpuTop)


def _make_root(chain, layered_top, fan_in, cpu_top, kind: str, n: int, out: str):
    if kind == "chain":
        return chain(n=n - 1, out=out)
    if kind == "layered":
        return layered_top(n=n, out=out)
    if kind == "cpu":
        return cpu_top(n=n, out=out)
    if kind in ("fanin", "complete"):
        return fan_in(n=n, out=out)
    raise ValueError(kind)


def prepare_complete(n: int, out: str) -> None:
    """Create the outputs of the 'complete' workload before timing."""
    directory = os.path.join(out, "leaf")
    os.makedirs(directory, exist_ok=True)
    for i in range(n):
        with open(os.path.join(directory, str(i)), "w") as f:
            f.write("x")
