"""Targets never show half-written output."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import trunq


def test_write_becomes_visible_only_on_close(tmp_path):
    target = trunq.LocalTarget(tmp_path / "a" / "out.txt")
    handle = target.open("w")
    handle.write("hello")
    assert not target.exists()
    handle.close()
    assert target.exists()
    with target.open("r") as f:
        assert f.read() == "hello"
    assert os.listdir(tmp_path / "a") == ["out.txt"]


def test_an_error_inside_the_block_leaves_nothing(tmp_path):
    target = trunq.LocalTarget(tmp_path / "out.txt")
    with pytest.raises(ValueError):
        with target.open("w") as f:
            f.write("partial")
            raise ValueError("boom")
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_binary_mode_and_remove(tmp_path):
    target = trunq.LocalTarget(tmp_path / "b.bin")
    with target.open("wb") as f:
        f.write(b"\x00\x01")
    with target.open("rb") as f:
        assert f.read() == b"\x00\x01"
    target.remove()
    assert not target.exists()


def test_temporary_path_moves_into_place_and_refuses_existing(tmp_path):
    target = trunq.LocalTarget(tmp_path / "dir" / "final")
    with target.temporary_path() as tmp:
        os.makedirs(tmp)
        with open(os.path.join(tmp, "foo.data"), "w") as f:
            f.write("x")
        assert not target.exists()
    assert (tmp_path / "dir" / "final" / "foo.data").read_text() == "x"
    with pytest.raises(FileExistsError):
        with target.temporary_path() as tmp:
            open(tmp, "w").close()
    assert os.listdir(tmp_path / "dir") == ["final"]


def test_temporary_path_failure_leaves_nothing(tmp_path):
    target = trunq.LocalTarget(tmp_path / "final")
    with pytest.raises(RuntimeError):
        with target.temporary_path() as tmp:
            Path(tmp).write_text("half")
            raise RuntimeError
    assert os.listdir(tmp_path) == []


def test_a_process_killed_mid_write_leaves_no_output(tmp_path):
    out = tmp_path / "out.txt"
    script = textwrap.dedent(f"""
        import os, trunq
        f = trunq.LocalTarget({str(out)!r}).open("w")
        f.write("x" * 100000)
        f.flush()
        os._exit(9)
    """)
    result = subprocess.run([sys.executable, "-c", script])
    assert result.returncode == 9
    assert not out.exists()
