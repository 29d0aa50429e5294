"""Steps for the worker kill matrix (tests/faults/test_kill_worker.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import trunq


class FaultSlow(trunq.Step):
    """Its first execution takes a few seconds (the window to signal its worker); later ones are quick."""

    root = trunq.Parameter()

    def output(self) -> trunq.LocalTarget:
        return trunq.LocalTarget(os.path.join(self.root, "out", "slow.txt"))

    def run(self) -> None:
        log = Path(self.root, "slow.started")
        first = not log.exists()
        with log.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        if first:
            time.sleep(6)
        with self.output().open("w") as out:
            out.write("slow")


class FaultChain(trunq.Step):
    """Pending behind FaultSlow while its worker is signalled: the next worker runs it."""

    root = trunq.Parameter()

    def requires(self) -> FaultSlow:
        return FaultSlow(root=self.root)

    def output(self) -> trunq.LocalTarget:
        return trunq.LocalTarget(os.path.join(self.root, "out", "chain.txt"))

    def run(self) -> None:
        with self.output().open("w") as out:
            out.write("chain")
