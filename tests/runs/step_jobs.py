"""Steps built by the step-recording tests (importable by their subprocesses too)."""

from __future__ import annotations

import os
import sys
import time

import trunq


class _Writes(trunq.Step):
    root = trunq.Parameter(significant=False)

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, self.step_id))

    def done(self):
        with self.output().open("w") as handle:
            handle.write("x")


class Quick(_Writes):
    n = trunq.IntParameter()

    def run(self):
        self.done()


class Printer(_Writes):
    def run(self):
        print("hello from printer")
        print("a warning", file=sys.stderr)
        self.done()


class Failer(_Writes):
    def run(self):
        raise ValueError("broken on purpose")


class Slow(_Writes):
    seconds = trunq.FloatParameter()

    def run(self):
        print("partial output", flush=True)
        time.sleep(self.seconds)
        print("finished")
        self.done()


class ManyQuick(trunq.WrapperStep):
    count = trunq.IntParameter()
    root = trunq.Parameter(significant=False)

    def requires(self):
        return [Quick(n=n, root=self.root) for n in range(self.count)]


class SlowAfterQuick(Slow):
    """Runs (slowly) after ``count`` quick steps."""

    count = trunq.IntParameter()

    def requires(self):
        return [Quick(n=n, root=self.root) for n in range(self.count)]
