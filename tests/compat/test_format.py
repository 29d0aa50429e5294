"""trunq.format behaves as luigi.format: same streams, same bytes on disk, same chain rules."""

from __future__ import annotations

import bz2
import gc
import gzip
import os
import subprocess

import luigi
import luigi.format
import pytest

import trunq
import trunq.format as fmt

TEXT = "first line\nsecond: ünïcode\n"


def test_public_names_match_luigi():
    for name in ("Nop", "Text", "UTF8", "Gzip", "Bzip2", "SysNewLine", "MixedUnicodeBytes",
                 "TextFormat", "GzipFormat", "Bzip2Format", "NopFormat", "ChainFormat", "Format",
                 "WrappedFormat", "NewlineFormat", "MixedUnicodeBytesFormat", "get_default_format"):
        assert hasattr(fmt, name) and hasattr(luigi.format, name), name
    assert fmt.get_default_format() is fmt.Text
    assert fmt.Text.input == "unicode" and fmt.Text.output == "bytes"
    assert (fmt.Gzip.input, fmt.Gzip.output) == ("bytes", "bytes")


@pytest.mark.parametrize("name", ["Text", "UTF8"])
def test_default_and_text_formats_read_and_write_str(tmp_path, name):
    ours = trunq.LocalTarget(tmp_path / "ours.txt", format=getattr(fmt, name))
    theirs = luigi.LocalTarget(str(tmp_path / "theirs.txt"), format=getattr(luigi.format, name))
    for target in (ours, theirs):
        with target.open("w") as f:
            f.write(TEXT)
    assert (tmp_path / "ours.txt").read_bytes() == (tmp_path / "theirs.txt").read_bytes()
    with ours.open("r") as a, theirs.open("r") as b:
        assert a.read() == b.read() == TEXT
    default = trunq.LocalTarget(tmp_path / "ours.txt")
    assert default.format is fmt.Text
    assert default.open("r").read() == TEXT


def test_nop_gives_bytes_both_ways(tmp_path):
    ours = trunq.LocalTarget(tmp_path / "o.bin", format=fmt.Nop)
    theirs = luigi.LocalTarget(str(tmp_path / "t.bin"), format=luigi.format.Nop)
    for target in (ours, theirs):
        with target.open("w") as f:
            f.write(b"\x00\x01\xff")
        with pytest.raises(TypeError):
            with target.open("w") as f:
                f.write("text is refused")
    assert ours.open("r").read() == theirs.open("r").read() == b"\x00\x01\xff"


def test_gzip_writes_gzip_bytes_readable_by_gunzip(tmp_path):
    target = trunq.LocalTarget(tmp_path / "data.gz", format=fmt.Gzip)
    with target.open("w") as f:
        f.write(b"abc" * 1000)
    assert gzip.decompress((tmp_path / "data.gz").read_bytes()) == b"abc" * 1000
    out = subprocess.run(["gunzip", "-c", str(tmp_path / "data.gz")], capture_output=True, check=True)
    assert out.stdout == b"abc" * 1000
    with target.open("r") as f:
        assert f.read() == b"abc" * 1000


def test_gzip_files_cross_between_luigi_and_trunq(tmp_path):
    theirs = luigi.LocalTarget(str(tmp_path / "t.gz"), format=luigi.format.UTF8 >> luigi.format.Gzip)
    with theirs.open("w") as f:
        f.write(TEXT)
    ours = trunq.LocalTarget(tmp_path / "t.gz", format=fmt.UTF8 >> fmt.Gzip)
    assert ours.open("r").read() == TEXT
    with trunq.LocalTarget(tmp_path / "o.gz", format=fmt.UTF8 >> fmt.Gzip).open("w") as f:
        f.write(TEXT)
    back = luigi.LocalTarget(str(tmp_path / "o.gz"), format=luigi.format.UTF8 >> luigi.format.Gzip)
    assert back.open("r").read() == TEXT


def test_gzip_compression_level(tmp_path):
    data = os.urandom(64) * 2000
    fast = trunq.LocalTarget(tmp_path / "fast.gz", format=fmt.GzipFormat(compression_level=1))
    best = trunq.LocalTarget(tmp_path / "best.gz", format=fmt.GzipFormat(compression_level=9))
    for target in (fast, best):
        with target.open("w") as f:
            f.write(data)
        assert target.open("r").read() == data
    assert gzip.decompress((tmp_path / "best.gz").read_bytes()) == data


def test_bzip2_and_text_over_bzip2(tmp_path):
    raw = trunq.LocalTarget(tmp_path / "r.bz2", format=fmt.Bzip2)
    with raw.open("w") as f:
        f.write(b"bz" * 100)
    assert bz2.decompress((tmp_path / "r.bz2").read_bytes()) == b"bz" * 100
    text = trunq.LocalTarget(tmp_path / "t.bz2", format=fmt.UTF8 >> fmt.Bzip2)
    with text.open("w") as f:
        f.write(TEXT)
    assert list(text.open("r")) == TEXT.splitlines(keepends=True)
    theirs = luigi.LocalTarget(str(tmp_path / "t.bz2"), format=luigi.format.UTF8 >> luigi.format.Bzip2)
    assert theirs.open("r").read() == TEXT


def test_chain_direction_and_consistency_check_as_luigi():
    ok = fmt.Text >> fmt.Gzip
    assert (ok.input, ok.output) == ("unicode", "bytes")
    with pytest.raises(TypeError, match="chaining is not valid"):
        fmt.Gzip >> fmt.Text
    with pytest.raises(TypeError):
        luigi.format.Gzip >> luigi.format.Text
    assert isinstance(fmt.UTF8 >> fmt.Gzip >> fmt.Nop, fmt.ChainFormat)
    unchecked = fmt.ChainFormat(fmt.Gzip, fmt.Text, check_consistency=False)
    assert unchecked.args == (fmt.Gzip, fmt.Text)


@pytest.mark.parametrize("chain", ["UTF8>>Gzip", "Gzip", "Text>>Bzip2", "Nop"])
def test_an_error_while_writing_leaves_nothing_for_any_format(tmp_path, chain):
    parts = [getattr(fmt, part) for part in chain.split(">>")]
    target = trunq.LocalTarget(tmp_path / "out", format=parts[0] if len(parts) == 1 else parts[0] >> parts[1])
    payload = b"data" if parts[0].input != "unicode" else "data"
    with pytest.raises(RuntimeError):
        with target.open("w") as f:
            f.write(payload)
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []
    handle = target.open("w")
    handle.write(payload)
    assert not target.exists()  # not visible before close
    del handle
    gc.collect()
    assert os.listdir(tmp_path) == []  # dropped unclosed: nothing committed
    with target.open("w") as f:
        f.write(payload)
    assert os.listdir(tmp_path) == ["out"]
    with target.open("r") as f:
        assert f.read() == payload


def test_sys_newline_and_mixed_unicode_bytes(tmp_path):
    newline = trunq.LocalTarget(tmp_path / "n", format=fmt.NewlineFormat(newline="\r\n"))
    with newline.open("w") as f:
        f.write(b"a\nb\n")
    assert (tmp_path / "n").read_bytes() == b"a\r\nb\r\n"
    assert newline.open("r").read() == b"a\nb\n"
    mixed = trunq.LocalTarget(tmp_path / "m", format=fmt.MixedUnicodeBytesFormat(encoding="utf8"))
    with pytest.warns(UserWarning, match="unicode"):
        with mixed.open("w") as f:
            f.write(b"bytes ")
            f.write("and text")
    assert (tmp_path / "m").read_bytes() == b"bytes and text"


class CommandGzip(fmt.Format):
    """A custom format the luigi way: pipes through the gzip command."""

    input = "bytes"
    output = "bytes"

    def pipe_reader(self, input_pipe):
        return fmt.InputPipeProcessWrapper(["gunzip"], input_pipe)

    def pipe_writer(self, output_pipe):
        return fmt.OutputPipeProcessWrapper(["gzip"], output_pipe)


class FailingCommand(CommandGzip):
    def pipe_writer(self, output_pipe):
        return fmt.OutputPipeProcessWrapper(["sh", "-c", "cat >/dev/null; exit 3"], output_pipe)


def test_custom_format_through_a_command(tmp_path):
    target = trunq.LocalTarget(tmp_path / "cmd.gz", format=fmt.UTF8 >> CommandGzip())
    with target.open("w") as f:
        f.write(TEXT)
    assert gzip.decompress((tmp_path / "cmd.gz").read_bytes()).decode() == TEXT
    with target.open("r") as f:
        assert f.read() == TEXT
    assert trunq.LocalTarget(tmp_path / "cmd.gz", format=fmt.UTF8 >> fmt.Gzip).open("r").read() == TEXT
    assert os.listdir(tmp_path) == ["cmd.gz"]


def test_custom_format_failures_leave_nothing(tmp_path):
    failing = trunq.LocalTarget(tmp_path / "bad", format=FailingCommand())
    with pytest.raises(RuntimeError, match="Error when executing command"):
        with failing.open("w") as f:
            f.write(b"data")
    with pytest.raises(ValueError):
        with trunq.LocalTarget(tmp_path / "bad2", format=CommandGzip()).open("w") as f:
            f.write(b"data")
            raise ValueError("step failed")
    assert os.listdir(tmp_path) == []
