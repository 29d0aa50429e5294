"""trunq.mock.MockTarget: luigi's in-memory target, also across forked workers."""

from __future__ import annotations

from collections.abc import Iterator

import luigi.mock
import pytest

import trunq
import trunq.format as fmt
from trunq.mock import MockFileSystem, MockTarget


@pytest.fixture(autouse=True)
def mock_store() -> Iterator[MockFileSystem]:
    """A clean store per test; the manager process is stopped at the end (by the finalizer)."""
    fs = MockTarget.fs
    fs.clear()
    yield fs
    process = MockFileSystem._manager._process if MockFileSystem._manager else None
    MockFileSystem.shutdown()
    if process is not None:
        process.join(timeout=10)
        assert not process.is_alive()


def test_write_read_exists_remove():
    target = MockTarget("/data/a.txt")
    assert not target.exists()
    with target.open("w") as f:
        f.write("hello\n")
        assert not target.exists()  # visible only once closed
    assert target.exists()
    with target.open("r") as f:
        assert f.read() == "hello\n"
    assert MockTarget.fs.get_data("/data/a.txt") == b"hello\n"
    target.remove()
    assert not target.exists()


def test_store_is_shared_and_listable():
    for name in ("/d/1", "/d/2", "/e/3"):
        with MockTarget(name).open("w") as f:
            f.write(name)
    assert sorted(MockTarget.fs.listdir("/d")) == ["/d/1", "/d/2"]
    assert MockTarget.fs.isdir("/d") and not MockTarget.fs.isdir("/x")
    assert dict(MockTarget.fs.get_all_data()) == {"/d/1": b"/d/1", "/d/2": b"/d/2", "/e/3": b"/e/3"}
    MockTarget.fs.remove("/d")
    assert list(MockTarget.fs.get_all_data().keys()) == ["/e/3"]
    MockTarget.fs.clear()
    assert not MockTarget("/e/3").exists()


def test_move_copy_and_raise_if_exists():
    with MockTarget("a").open("w") as f:
        f.write("x")
    MockTarget.fs.copy("a", "b")
    MockTarget("a").move("c")
    assert sorted(MockTarget.fs.get_all_data().keys()) == ["b", "c"]
    with pytest.raises(RuntimeError):
        MockTarget("b").move("c", raise_if_exists=True)


def test_an_error_while_writing_stores_nothing():
    with pytest.raises(ValueError):
        with MockTarget("bad").open("w") as f:
            f.write("partial")
            raise ValueError("boom")
    assert not MockTarget("bad").exists()


def test_formats_apply(tmp_path):
    target = MockTarget("g.gz", format=fmt.UTF8 >> fmt.Gzip)
    with target.open("w") as f:
        f.write("compressed")
    assert MockTarget.fs.get_data("g.gz")[:2] == b"\x1f\x8b"
    assert target.open("r").read() == "compressed"
    raw = MockTarget("raw", format=fmt.Nop)
    with raw.open("w") as f:
        f.write(b"\x00")
    assert raw.open("r").read() == b"\x00"


def test_mirror_on_stderr_prefixes_each_line(capsys):
    with MockTarget("/m.txt", mirror_on_stderr=True).open("w") as f:
        f.write("one\n")
        f.write("two")
        f.write(" more\nthree\n")
    assert capsys.readouterr().err == "/m.txt: one\n/m.txt: two more\n/m.txt: three\n"


@pytest.fixture
def luigi_store() -> Iterator[None]:
    """luigi's store starts a manager process too: stop it at the end."""
    yield
    data = luigi.mock.MockFileSystem._data
    if data is not None:
        luigi.mock.MockFileSystem._data = None
        data._manager.shutdown()


def test_same_behaviour_as_luigi_mock_target(luigi_store):
    results = []
    for cls in (luigi.mock.MockTarget, MockTarget):
        cls.fs.clear()
        with cls("/p/a").open("w") as f:
            f.write("A")
        with cls("/p/b").open("w") as f:
            f.write("B")
        cls("/p/b").move("/q/b")
        results.append((sorted(cls.fs.listdir("/p")), cls("/q/b").open("r").read(),
                        cls("/p/b").exists(), dict(cls.fs.get_all_data())))
        cls.fs.clear()
    assert results[0] == results[1]


class MockProduce(trunq.Step):
    name = trunq.Parameter()

    def output(self):
        return MockTarget(f"/build/{self.name}")

    def run(self):
        with self.output().open("w") as f:
            f.write(self.name.upper())


class MockCombine(trunq.Step):
    def requires(self):
        return [MockProduce(name="a"), MockProduce(name="b")]

    def output(self):
        return MockTarget("/build/combined")

    def run(self):
        with self.output().open("w") as f:
            f.write("+".join(t.open("r").read() for t in self.input()))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_build_writes_into_the_store_also_from_forked_workers(workers):
    assert trunq.build([MockCombine()], local_scheduler=True, workers=workers) is True
    assert MockTarget("/build/combined").open("r").read() == "A+B"
    assert sorted(MockTarget.fs.listdir("/build")) == ["/build/a", "/build/b", "/build/combined"]
