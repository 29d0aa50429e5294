"""Steps for the monitoring tests: one prints a marker, then waits for ``root/go``."""

import os
import time

import trunq


class VisiblePrinter(trunq.Step):
    root = trunq.Parameter()

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, "printer.done"))

    def run(self):
        print("printer-marker-7b1e", flush=True)
        deadline = time.time() + 30
        while not os.path.exists(os.path.join(self.root, "go")) and time.time() < deadline:
            time.sleep(0.05)
        with self.output().open("w") as f:
            f.write("ok")
