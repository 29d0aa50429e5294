"""A small luigi project, written out by the tests and then migrated."""

from __future__ import annotations

from pathlib import Path

PIPELINE = '''"""Count words: three steps with parameters and a wrapper."""
import luigi  # the engine
from luigi import WrapperTask


class Text(luigi.Task):
    """One generated text file."""

    n = luigi.IntParameter()
    words = luigi.IntParameter(default=3)

    def output(self):
        return luigi.LocalTarget(f"out/text-{self.n}.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write(" ".join(["w"] * (self.n + self.words)))


class Count(luigi.Task):
    n = luigi.IntParameter()
    resources = {"disk": 1}

    def requires(self):
        return Text(n=self.n)

    def output(self):
        return luigi.LocalTarget(f"out/count-{self.n}.txt")

    def run(self):
        with self.input().open("r") as f:
            total = len(f.read().split())
        with self.output().open("w") as f:
            f.write(str(total))


class Total(luigi.Task):
    files = luigi.IntParameter(default=2)
    label = luigi.Parameter(default="total")

    def requires(self):
        return [Count(n=i) for i in range(self.files)]

    def output(self):
        return luigi.LocalTarget(f"out/{self.label}.txt")

    def run(self):
        total = sum(int(t.open("r").read()) for t in self.input())
        with self.output().open("w") as f:
            f.write(f"{self.task_family} {total}")


class All(WrapperTask):
    def requires(self):
        return Total()
'''

CONFIG = '''# settings for the word count
[core]
log_level = WARNING

[resources]
disk = 2

[Text]
words = 4

[Total]
files = 3
label = sum
'''

RUN_SH = '''#!/bin/sh
# run the pipeline
cd "$(dirname "$0")"
luigi --module pipeline All --local-scheduler
'''


def write_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pipeline.py").write_text(PIPELINE)
    (root / "luigi.cfg").write_text(CONFIG)
    (root / "run.sh").write_text(RUN_SH)
    (root / "run.sh").chmod(0o755)
    (root / "requirements.txt").write_text("luigi>=3.5\n")
    return root
