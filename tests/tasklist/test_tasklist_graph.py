"""defer / evaluate: every example of spec 05, plus once-only evaluation and distinct ids."""

from __future__ import annotations

import pickle

import dill
import pytest
from tasklist_funcs import Thing, add, pair, prepare, read_calls, record_call

from trunq.tasklist import Task, TaskAttribute, TaskItem, defer, evaluate


def test_defer_function_with_kwargs_and_plain_data():
    assert evaluate(defer(dict, alpha="a", beta="b")) == {"alpha": "a", "beta": "b"}
    assert evaluate(defer(lambda x: x, 42)) == 42
    assert evaluate(defer(42)) == 42
    assert evaluate(defer(sorted, [3, 1, 2])) == [1, 2, 3]


def test_plain_data_with_arguments_is_rejected():
    with pytest.raises(TypeError, match="not callable"):
        defer(42, 1)


def test_tasks_as_arguments():
    task1 = defer(dict, value=42)
    task2 = defer(lambda x: x["value"], task1)
    assert evaluate(task1) == {"value": 42}
    assert evaluate(task2) == 42


def test_item_and_attribute_chains_from_spec():
    task1 = defer(dict, value=42)
    assert evaluate(defer(lambda x: x, task1["value"])) == 42
    task1 = defer({"value": 42})
    task2 = task1["value"]
    assert isinstance(task2, TaskItem)
    assert evaluate(task2) == 42
    task1 = defer(list, [23, 42])
    assert evaluate(defer(lambda x: x, task1[1])) == 42
    assert evaluate(task1[1]) == 42
    task1 = defer(Exception, "an error message")
    assert evaluate(defer(lambda x: x, task1.args)) == ("an error message",)
    assert isinstance(task1.args, TaskAttribute)
    assert evaluate(task1.args) == ("an error message",)
    assert evaluate(defer(lambda x: x, task1.args[0])) == "an error message"
    assert evaluate(task1.args[0]) == "an error message"


def test_readme_pipeline_shape():
    task = defer(prepare, 3)
    task = defer(add, task[1], task[0])
    assert evaluate(task) == 33
    thing = defer(Thing, 5)
    assert evaluate(defer(add, thing.thing, thing.items[1])) == 11


def test_method_of_a_deferred_result_can_be_deferred():
    thing = defer(Thing, 4)
    assert evaluate(defer(thing.double)) == 8
    assert evaluate(defer(defer("abc").upper)) == "ABC"


def test_attribute_and_item_with_same_key_get_distinct_ids():
    task = defer(dict, x="item")
    assert task.x._id != task["x"]._id
    assert task[1]._id != task["1"]._id
    obj = defer(lambda: type("O", (dict,), {"x": "attr"})(x="item"))
    assert evaluate(defer(lambda a, b: (a, b), obj.x, obj["x"])) == ("attr", "item")
    assert evaluate(defer(lambda a, b: (a, b), defer({1: "int", "1": "str"})[1],
                          defer({1: "int", "1": "str"})["1"])) == ("int", "str")


def test_shared_subtask_runs_once_per_graph(call_log):
    shared = defer(record_call, str(call_log), "shared")
    combined = defer(lambda a, b, c: [a, b, c], shared, defer(add, shared, "!"), shared[0])
    assert evaluate(combined) == ["shared", "shared!", "s"]
    assert read_calls(call_log) == ["shared"]


def test_shared_subtask_runs_once_after_pickling(call_log):
    shared = defer(record_call, str(call_log), "x")
    graph = dill.loads(dill.dumps(defer(pair, shared, defer(add, shared, "y"))))
    assert evaluate(graph) == ("x", "xy")
    assert read_calls(call_log) == ["x"]


def test_tasks_are_hashable_and_not_iterable():
    task = defer(list, [1, 2])
    assert len({task, task}) == 1
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(task)


def test_dunder_lookups_are_not_deferred():
    task = defer(add, 1, 2)
    assert not hasattr(task, "__array__")
    assert isinstance(pickle.loads(dill.dumps(task)), Task)
