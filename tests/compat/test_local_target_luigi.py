"""LocalTarget's luigi API: open modes, move/copy across file systems, makedirs, fs, is_tmp."""

from __future__ import annotations

import errno
import os
import tempfile

import luigi
import pytest

import trunq
import trunq.format as fmt
from trunq.target import FileAlreadyExists, LocalFileSystem


def test_fs_is_a_shared_local_file_system(tmp_path):
    a, b = trunq.LocalTarget(tmp_path / "a"), trunq.LocalTarget(tmp_path / "b")
    assert isinstance(a.fs, LocalFileSystem) and a.fs is b.fs
    (tmp_path / "a").write_text("x")
    assert a.fs.exists(a.path) and not a.fs.exists(b.path)
    assert a.fs.listdir(str(tmp_path)) == [str(tmp_path / "a")]


def test_str_is_the_path_as_luigi(tmp_path):
    assert str(trunq.LocalTarget(tmp_path / "p.txt")) == str(luigi.LocalTarget(tmp_path / "p.txt"))
    assert str(trunq.LocalTarget(tmp_path / "p.txt")) == str(tmp_path / "p.txt")


def test_default_open_is_text_and_nop_is_binary_as_luigi(tmp_path):
    for target in (trunq.LocalTarget(tmp_path / "t"), luigi.LocalTarget(str(tmp_path / "l"))):
        with target.open("w") as f:
            f.write("text")
        assert isinstance(target.open("r").read(), str)
    for target in (trunq.LocalTarget(tmp_path / "t2", format=fmt.Nop),
                   luigi.LocalTarget(str(tmp_path / "l2"), format=luigi.format.Nop)):
        with target.open("w") as f:
            f.write(b"bytes")
        assert target.open("r").read() == b"bytes"
    with pytest.raises(ValueError, match="mode"):
        trunq.LocalTarget(tmp_path / "t").open("a")


def test_move_and_copy(tmp_path):
    source = trunq.LocalTarget(tmp_path / "src.txt")
    with source.open("w") as f:
        f.write("payload")
    source.copy(tmp_path / "deep" / "copy.txt")
    assert (tmp_path / "deep" / "copy.txt").read_text() == "payload"
    with pytest.raises(FileAlreadyExists):
        source.copy(str(tmp_path / "deep" / "copy.txt"), raise_if_exists=True)
    source.move(tmp_path / "moved" / "dst.txt")
    assert not source.exists()
    assert (tmp_path / "moved" / "dst.txt").read_text() == "payload"
    other = trunq.LocalTarget(tmp_path / "deep" / "copy.txt")
    with pytest.raises(FileExistsError):  # FileAlreadyExists is a FileExistsError
        other.move(str(tmp_path / "moved" / "dst.txt"), raise_if_exists=True)
    other.move(str(tmp_path / "moved" / "dst.txt"))  # replaces without the flag
    assert sorted(os.listdir(tmp_path / "moved")) == ["dst.txt"]
    assert sorted(os.listdir(tmp_path / "deep")) == []


def test_luigi_move_and_copy_behave_the_same(tmp_path):
    for lib, name in ((luigi, "l"), (trunq, "t")):
        target = lib.LocalTarget(str(tmp_path / name / "a.txt"))
        with target.open("w") as f:
            f.write(name)
        target.copy(str(tmp_path / name / "sub" / "b.txt"))
        target.move(str(tmp_path / name / "other" / "c.txt"))
        assert not target.exists()
    layout = {name: sorted(os.path.relpath(os.path.join(d, f), tmp_path / name)
                           for d, _, files in os.walk(tmp_path / name) for f in files) for name in "lt"}
    assert layout["l"] == layout["t"] == ["other/c.txt", "sub/b.txt"]


def _other_device_dir() -> str | None:
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK) and \
            os.stat(shm).st_dev != os.stat(tempfile.gettempdir()).st_dev:
        return shm
    return None


def test_move_across_file_systems(tmp_path, monkeypatch):
    source = trunq.LocalTarget(tmp_path / "src.bin", format=fmt.Nop)
    with source.open("w") as f:
        f.write(b"\x01" * 4096)
    other = _other_device_dir()
    if other is None:  # one device here: make rename fail as it would across devices
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if os.fspath(src) == source.path:
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
        other = str(tmp_path / "elsewhere")
    destination = tempfile.mkdtemp(dir=other)
    try:
        if other == "/dev/shm":
            with pytest.raises(OSError) as crossing:
                os.rename(source.path, os.path.join(destination, "probe"))
            assert crossing.value.errno == errno.EXDEV  # really another file system
        source.move(os.path.join(destination, "dst.bin"))
        assert not source.exists()
        assert os.listdir(destination) == ["dst.bin"]  # no temporary left behind
        with open(os.path.join(destination, "dst.bin"), "rb") as f:
            assert f.read() == b"\x01" * 4096
    finally:
        trunq.LocalTarget(destination).remove()


def test_move_across_devices_simulated(tmp_path, monkeypatch):
    source = trunq.LocalTarget(tmp_path / "a.txt")
    with source.open("w") as f:
        f.write("across")
    real_replace = os.replace
    calls = []

    def replace(src, dst, *args, **kwargs):
        calls.append(os.fspath(src))
        if os.fspath(src) == source.path:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    source.move(str(tmp_path / "b" / "c.txt"))
    assert (tmp_path / "b" / "c.txt").read_text() == "across"
    assert os.listdir(tmp_path / "b") == ["c.txt"] and not source.exists()
    assert calls[0] == source.path and len(calls) == 2  # rename failed, then copy + rename


def test_makedirs_creates_the_parent_only(tmp_path):
    target = trunq.LocalTarget(tmp_path / "x" / "y" / "file.txt")
    target.makedirs()
    assert (tmp_path / "x" / "y").is_dir() and not target.exists()
    target.makedirs()  # again: no error


def test_temporary_path_is_beside_the_destination(tmp_path):
    target = trunq.LocalTarget(tmp_path / "out" / "result.csv")
    with target.temporary_path() as tmp:
        assert os.path.dirname(tmp) == str(tmp_path / "out")
        assert os.stat(os.path.dirname(tmp)).st_dev == os.stat(tmp_path).st_dev
        with open(tmp, "w") as f:
            f.write("a,b\n")
        assert not target.exists()
    assert target.open("r").read() == "a,b\n"
    assert os.listdir(tmp_path / "out") == ["result.csv"]


def test_is_tmp_targets_are_removed_when_dropped():
    target = trunq.LocalTarget(is_tmp=True)
    assert target.path.startswith(tempfile.gettempdir())
    with target.open("w") as f:
        f.write("scratch")
    path = target.path
    assert os.path.exists(path)
    del target
    assert not os.path.exists(path)
    with pytest.raises(ValueError):
        trunq.LocalTarget()


def test_local_file_system_lists_makes_and_removes_as_luigi(tmp_path):
    import luigi.local_target
    import luigi.target

    import trunq.target

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f1").write_text("1")
    (tmp_path / "a" / "f2").write_text("2")
    for fs, lib in ((luigi.local_target.LocalFileSystem(), luigi.target), (LocalFileSystem(), trunq.target)):
        assert sorted(fs.listdir(str(tmp_path / "a"))) == [str(tmp_path / "a" / "b" / "f1"),
                                                          str(tmp_path / "a" / "f2")]  # recursive, files only
        with pytest.raises(lib.FileAlreadyExists):
            fs.mkdir(str(tmp_path / "a"), raise_if_exists=True)
        with pytest.raises(lib.MissingParentDirectory):
            fs.mkdir(str(tmp_path / "nowhere" / "x"), parents=False)
        with pytest.raises(lib.NotADirectory):
            fs.mkdir(str(tmp_path / "a" / "f2"))
        with pytest.raises(FileNotFoundError):
            fs.remove(str(tmp_path / "missing"))
