"""A small pipeline: make some text files, count words in each, then sum the counts.

    trunq --module examples.wordcount TotalWords --local-scheduler --workers 2
"""

import collections
import json
import random

import trunq

OUT = "example-output"
WORDS = "alpha beta gamma delta epsilon zeta eta theta".split()


class Text(trunq.Step):
    """One generated text file."""

    n = trunq.IntParameter()

    def output(self):
        return trunq.LocalTarget(f"{OUT}/text-{self.n}.txt")

    def run(self):
        rng = random.Random(self.n)
        with self.output().open("w") as f:
            f.write(" ".join(rng.choice(WORDS) for _ in range(1000)))


class CountWords(trunq.Step):
    """Word counts of one text file, as JSON."""

    n = trunq.IntParameter()

    def requires(self):
        return Text(self.n)

    def output(self):
        return trunq.LocalTarget(f"{OUT}/count-{self.n}.json")

    def run(self):
        with self.input().open("r") as f:
            counts = collections.Counter(f.read().split())
        with self.output().open("w") as f:
            json.dump(counts, f)


class TotalWords(trunq.Step):
    """The sum of the counts of ``files`` text files."""

    files = trunq.IntParameter(default=8)

    def requires(self):
        return [CountWords(n) for n in range(self.files)]

    def output(self):
        return trunq.LocalTarget(f"{OUT}/total-{self.files}.json")

    def run(self):
        total = collections.Counter()
        for target in self.input():
            with target.open("r") as f:
                total.update(json.load(f))
        with self.output().open("w") as f:
            json.dump(dict(sorted(total.items())), f, indent=1)
        print(f"{sum(total.values())} words in {self.files} files")
