"""flatten, flatten_output, getpaths and MixinNaiveBulkComplete as luigi.task has them."""

from __future__ import annotations

import collections
import datetime

import luigi
import luigi.task

import trunq


class Leaf(trunq.Step):
    name = trunq.Parameter()

    def output(self):
        return trunq.LocalTarget(f"/nowhere/{self.name}")


class Wrapper(trunq.WrapperStep):
    def requires(self):
        return [Leaf(name="a"), Inner(), Leaf(name="a")]


class Inner(trunq.WrapperStep):
    def requires(self):
        return {"b": Leaf(name="b"), "c": Leaf(name="c")}


class WithOutput(trunq.Step):
    def requires(self):
        return Leaf(name="ignored")

    def output(self):
        return [trunq.LocalTarget("/nowhere/own1"), trunq.LocalTarget("/nowhere/own2")]


def test_exported_from_trunq():
    assert trunq.flatten({"a": [1, (2, None)], "b": 3}) == [1, 2, 3]
    assert callable(trunq.flatten_output) and callable(trunq.getpaths)


def test_flatten_output_walks_output_less_steps():
    assert [t.path for t in trunq.flatten_output(Wrapper())] == \
        ["/nowhere/a", "/nowhere/b", "/nowhere/c"]
    assert [t.path for t in trunq.flatten_output(WithOutput())] == ["/nowhere/own1", "/nowhere/own2"]
    assert trunq.flatten_output(Leaf(name="z")) == [trunq.LocalTarget("/nowhere/z")]


def test_flatten_output_matches_luigi():
    class LLeaf(luigi.Task):
        name = luigi.Parameter()

        def output(self):
            return luigi.LocalTarget(f"/nowhere/{self.name}")

    class LInner(luigi.WrapperTask):
        def requires(self):
            return {"b": LLeaf(name="b"), "c": LLeaf(name="c")}

    class LWrapper(luigi.WrapperTask):
        def requires(self):
            return [LLeaf(name="a"), LInner(), LLeaf(name="a")]

    assert [t.path for t in luigi.task.flatten_output(LWrapper())] == \
        [t.path for t in trunq.flatten_output(Wrapper())]


def test_getpaths_keeps_the_structure_and_mapping_types():
    struct = collections.OrderedDict([("x", Leaf(name="x")), ("ys", [Leaf(name="y1"), (Leaf(name="y2"),)])])
    paths = trunq.getpaths(struct)
    assert type(paths) is collections.OrderedDict and list(paths) == ["x", "ys"]
    assert paths["x"] == trunq.LocalTarget("/nowhere/x")
    assert paths["ys"] == [trunq.LocalTarget("/nowhere/y1"), (trunq.LocalTarget("/nowhere/y2"),)]
    default = collections.defaultdict(list, {"a": Leaf(name="a")})
    mapped = trunq.getpaths(default)
    assert type(mapped) is collections.defaultdict and mapped["missing"] == []
    Pair = collections.namedtuple("Pair", "left right")
    pair = trunq.getpaths(Pair(Leaf(name="l"), Leaf(name="r")))
    assert type(pair) is Pair and pair.right == trunq.LocalTarget("/nowhere/r")
    assert trunq.getpaths(Leaf(name="q") for _ in range(2)) == [trunq.LocalTarget("/nowhere/q")] * 2


def test_input_of_a_step_keeps_an_ordered_dict():
    class Needs(trunq.Step):
        def requires(self):
            return collections.OrderedDict([("second", Leaf(name="2")), ("first", Leaf(name="1"))])

    inputs = Needs().input()
    assert type(inputs) is collections.OrderedDict and list(inputs) == ["second", "first"]


class Cheap(trunq.MixinNaiveBulkComplete, trunq.Step):
    day = trunq.DateParameter()
    kind = trunq.Parameter(default="x")
    done: set[tuple[datetime.date, str]] = set()

    def complete(self):
        return (self.day, self.kind) in Cheap.done


def test_mixin_naive_bulk_complete_checks_each_value():
    d1, d2, d3 = (datetime.date(2024, 1, n) for n in (1, 2, 3))
    Cheap.done = {(d1, "x"), (d3, "x"), (d2, "y")}
    assert Cheap.bulk_complete([d1, d2, d3]) == [d1, d3]
    assert Cheap.bulk_complete([(d2, "y"), (d2, "x")]) == [(d2, "y")]
    assert Cheap.bulk_complete([{"day": d2, "kind": "y"}, {"day": d1, "kind": "y"}]) == [{"day": d2, "kind": "y"}]


def test_range_tools_use_the_mixin():
    from trunq.tools import bulk
    from trunq.tools.range import RangeDaily

    assert bulk.implements_bulk_complete(Cheap)  # so the range asks bulk_complete once

    days = [datetime.date(2024, 3, 1) + datetime.timedelta(days=n) for n in range(5)]
    Cheap.done = {(day, "x") for day in days[1:4]}
    now = int(datetime.datetime(2024, 3, 6, tzinfo=datetime.UTC).timestamp())
    steps = RangeDaily(of=Cheap, start=days[0], stop=datetime.date(2024, 3, 6), now=now).requires()
    assert sorted(step.day for step in steps) == [days[0], days[4]]
