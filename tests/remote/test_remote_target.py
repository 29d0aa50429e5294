"""RemoteTarget on fsspec stores: memory://, file:// and a real S3-compatible server."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import uuid

import pytest

import trunq
import trunq.format


def _url(name: str) -> str:
    return f"memory://trunq-tests/{uuid.uuid4().hex}/{name}"


# ---------------------------------------------------------------- memory://


def test_write_then_read_text_on_memory():
    target = trunq.RemoteTarget(_url("a.txt"))
    assert not target.exists()
    with target.open("w") as f:
        f.write("hello\nworld\n")
    assert target.exists()
    with target.open("r") as f:
        assert f.read() == "hello\nworld\n"
    assert target.fs.cat(target.fs_path) == b"hello\nworld\n"


def test_nothing_is_visible_before_close_and_nothing_after_an_error():
    target = trunq.RemoteTarget(_url("b.txt"))
    handle = target.open("w")
    handle.write("half")
    assert not target.exists()
    handle.close()
    assert target.exists()

    broken = trunq.RemoteTarget(_url("c.txt"))
    with pytest.raises(RuntimeError):
        with broken.open("w") as f:
            f.write("partial")
            raise RuntimeError("boom")
    assert not broken.exists()
    parent = os.path.dirname(broken.fs_path)
    assert not broken.fs.exists(parent) or broken.fs.ls(parent) == []


def test_gzip_format_writes_gzip_bytes_and_reads_back():
    target = trunq.RemoteTarget(_url("d.txt.gz"), format=trunq.format.UTF8 >> trunq.format.Gzip)
    with target.open("w") as f:
        f.write("zipped línea\n")
    assert gzip.decompress(target.fs.cat(target.fs_path)) == "zipped línea\n".encode()
    with target.open("r") as f:
        assert f.read() == "zipped línea\n"


def test_binary_with_nop_and_with_b_mode():
    target = trunq.RemoteTarget(_url("e.bin"), format=trunq.format.Nop)
    with target.open("w") as f:
        f.write(b"\x00\xff")
    assert trunq.RemoteTarget(target.path).open("rb").read() == b"\x00\xff"
    assert target.open("r").read() == b"\x00\xff"


def test_remove_and_temporary_path_for_a_directory():
    target = trunq.RemoteTarget(_url("outdir"))
    with target.temporary_path() as tmp:
        os.makedirs(tmp)
        for name in ("part-0", "part-1"):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(name)
    assert target.exists()
    assert sorted(os.path.basename(p) for p in target.fs.find(target.fs_path)) == ["part-0", "part-1"]
    target.remove()
    assert not target.exists()


def test_temporary_path_uploads_nothing_on_error():
    target = trunq.RemoteTarget(_url("f.csv"))
    with pytest.raises(ValueError):
        with target.temporary_path() as tmp:
            with open(tmp, "w") as f:
                f.write("x")
            raise ValueError("tool failed")
    assert not target.exists()


def test_exists_many_lists_each_directory_once():
    base = _url("")
    for name in ("2024-01-01", "2024-01-03"):
        with trunq.RemoteTarget(base + name).open("w") as f:
            f.write(name)
    urls = [base + f"2024-01-0{day}" for day in (1, 2, 3)] + ["memory://trunq-tests/nowhere/x"]
    calls = []
    fs = trunq.RemoteTarget(base + "x").fs
    original = fs.ls
    fs.ls = lambda path, *args, **kwargs: calls.append(path) or original(path, *args, **kwargs)
    try:
        answer = trunq.RemoteTarget.exists_many(urls)
    finally:
        del fs.ls
    assert answer == {urls[0]: True, urls[1]: False, urls[2]: True, urls[3]: False}
    assert len(calls) == 2  # one listing per parent directory, not one request per URL


def test_equality_and_repr():
    assert trunq.RemoteTarget("memory://x/y") == trunq.RemoteTarget("memory://x/y")
    assert "memory://x/y" in repr(trunq.RemoteTarget("memory://x/y"))


# ---------------------------------------------------------------- file://


def test_file_url_writes_atomically_beside_the_destination(tmp_path):
    target = trunq.RemoteTarget(f"file://{tmp_path}/sub/out.txt")
    handle = target.open("w")
    handle.write("local")
    assert not (tmp_path / "sub" / "out.txt").exists()
    handle.close()
    assert (tmp_path / "sub" / "out.txt").read_text() == "local"
    assert os.listdir(tmp_path / "sub") == ["out.txt"]
    other = trunq.RemoteTarget(f"file://{tmp_path}/sub/other.txt")
    with other.temporary_path() as tmp:
        assert os.path.dirname(tmp) == str(tmp_path / "sub")  # same directory: a plain rename
        with open(tmp, "w") as f:
            f.write("again")
    assert sorted(os.listdir(tmp_path / "sub")) == ["other.txt", "out.txt"]
    assert other.open("r").read() == "again"


def test_plain_local_path_works_too(tmp_path):
    target = trunq.RemoteTarget(str(tmp_path / "plain.txt"))
    with target.open("w") as f:
        f.write("p")
    assert (tmp_path / "plain.txt").read_text() == "p"
    assert target.exists()


def test_remote_target_is_loaded_lazily_and_names_the_extra(tmp_path):
    code = textwrap.dedent("""
        import sys
        import trunq
        assert "fsspec" not in sys.modules, "import trunq must not import fsspec"
        sys.modules["fsspec"] = None  # as if fsspec were not installed
        exec("from trunq import *")  # the optional name is not part of the star import
        try:
            trunq.RemoteTarget
        except ImportError as error:
            print(error)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "RemoteTarget needs fsspec: pip install 'trunq[remote]'"


# ---------------------------------------------------------------- S3 (moto server)


def s3(bucket: str, key: str, endpoint: str, **kwargs) -> trunq.RemoteTarget:
    return trunq.RemoteTarget(f"s3://{bucket}/{key}", client_kwargs={"endpoint_url": endpoint}, **kwargs)


def test_s3_write_read_gzip_and_remove(s3_endpoint, bucket):
    target = s3(bucket, "data/x.txt.gz", s3_endpoint, format=trunq.format.UTF8 >> trunq.format.Gzip)
    assert not target.exists()
    with target.open("w") as f:
        f.write("on s3\n")
    assert target.exists()
    assert gzip.decompress(target.fs.cat(target.fs_path)) == b"on s3\n"
    with target.open("r") as f:
        assert f.read() == "on s3\n"
    target.remove()
    assert not target.exists()


def test_s3_temporary_path_uploads_on_success_only(s3_endpoint, bucket):
    good = s3(bucket, "tool/good.csv", s3_endpoint)
    with good.temporary_path() as tmp:
        with open(tmp, "w") as f:
            f.write("a,b\n")
    assert good.open("r").read() == "a,b\n"
    bad = s3(bucket, "tool/bad.csv", s3_endpoint)
    with pytest.raises(OSError):
        with bad.temporary_path() as tmp:
            with open(tmp, "w") as f:
                f.write("a,")
            raise OSError("tool crashed")
    assert not bad.exists()
    assert good.fs.ls(f"{bucket}/tool", detail=False) == [f"{bucket}/tool/good.csv"]


class S3Raw(trunq.Step):
    bucket = trunq.Parameter()
    endpoint = trunq.Parameter()
    runs: list[str] = []

    def output(self):
        return s3(self.bucket, "pipeline/raw.txt", self.endpoint)

    def run(self):
        S3Raw.runs.append(self.bucket)
        with self.output().open("w") as f:
            f.write("one\ntwo\n")


class S3Upper(trunq.Step):
    bucket = trunq.Parameter()
    endpoint = trunq.Parameter()
    runs: list[str] = []

    def requires(self):
        return S3Raw(bucket=self.bucket, endpoint=self.endpoint)

    def output(self):
        return s3(self.bucket, "pipeline/upper.txt.gz", self.endpoint, format=trunq.format.UTF8 >> trunq.format.Gzip)

    def run(self):
        S3Upper.runs.append(self.bucket)
        with self.input().open("r") as src, self.output().open("w") as dst:
            dst.write(src.read().upper())


class S3Broken(trunq.Step):
    bucket = trunq.Parameter()
    endpoint = trunq.Parameter()

    def output(self):
        return s3(self.bucket, "pipeline/broken.txt", self.endpoint)

    def run(self):
        with self.output().open("w") as f:
            f.write("half of it")
            raise RuntimeError("failed mid-write")


def test_a_build_with_s3_outputs_skips_complete_steps_on_rerun(s3_endpoint, bucket):
    S3Raw.runs.clear()
    S3Upper.runs.clear()
    step = S3Upper(bucket=bucket, endpoint=s3_endpoint)
    assert step.input().fs.ls(bucket) == []  # the parent process has used s3fs before the build
    assert trunq.build([step], local_scheduler=True) is True
    assert step.output().exists() and step.input().exists()
    with step.output().open("r") as f:
        assert f.read() == "ONE\nTWO\n"
    assert (S3Raw.runs, S3Upper.runs) == ([bucket], [bucket])

    assert trunq.build([S3Upper(bucket=bucket, endpoint=s3_endpoint)], local_scheduler=True) is True
    assert (S3Raw.runs, S3Upper.runs) == ([bucket], [bucket])  # both complete: nothing ran again

    step.output().remove()
    assert trunq.build([S3Upper(bucket=bucket, endpoint=s3_endpoint)], local_scheduler=True) is True
    assert (S3Raw.runs, S3Upper.runs) == ([bucket], [bucket, bucket])  # only the missing one


def test_forked_workers_write_s3_outputs(s3_endpoint, bucket):
    step = S3Upper(bucket=bucket, endpoint=s3_endpoint)
    assert step.output().fs.ls(bucket) == []  # s3fs already started in the parent before the fork
    assert trunq.build([step], local_scheduler=True, workers=2) is True
    with step.output().open("r") as f:
        assert f.read() == "ONE\nTWO\n"
    assert sorted(step.output().fs.ls(f"{bucket}/pipeline", detail=False)) == \
        [f"{bucket}/pipeline/raw.txt", f"{bucket}/pipeline/upper.txt.gz"]


def test_a_step_failing_mid_write_leaves_no_object(s3_endpoint, bucket):
    result = trunq.build([S3Broken(bucket=bucket, endpoint=s3_endpoint)], local_scheduler=True,
                         detailed_summary=True)
    assert result.scheduling_succeeded is False  # the step failed
    assert result.status.name == "FAILED"
    target = S3Broken(bucket=bucket, endpoint=s3_endpoint).output()
    assert not target.exists()
    assert target.fs.find(bucket) == []  # no object at all, not even a temporary one


# ---------------------------------------------------------------- range tools


class MemoryDaily(trunq.Step):
    date = trunq.DateParameter()
    root = trunq.Parameter(default="memory://trunq-range")

    def output(self):
        return trunq.RemoteTarget(f"{self.root}/{self.date:%Y-%m}/{self.date:%d}.txt")


def test_range_daily_lists_remote_directories_instead_of_checking_each_day(monkeypatch):
    import datetime

    from trunq.tools.range import RangeDaily

    root = f"memory://trunq-range-{uuid.uuid4().hex}"
    days = [datetime.date(2024, 1, 1) + datetime.timedelta(days=n) for n in range(60)]
    missing = set(days[::7])
    for day in days:
        if day not in missing:
            with MemoryDaily(date=day, root=root).output().open("w") as f:
                f.write("x")
    exists_calls: list[str] = []
    monkeypatch.setattr(trunq.RemoteTarget, "exists", lambda self: exists_calls.append(self.path))
    listed: list[str] = []
    original = trunq.RemoteTarget.bulk_lister
    monkeypatch.setattr(trunq.RemoteTarget, "bulk_lister",
                        lambda self, directory: listed.append(directory) or original(self, directory))
    stop = days[-1] + datetime.timedelta(days=1)
    now = int(datetime.datetime(stop.year, stop.month, stop.day, tzinfo=datetime.UTC).timestamp())
    steps = RangeDaily(of=MemoryDaily, of_params={"root": root}, start=days[0], stop=stop,
                       step_limit=1000, now=now).requires()
    assert sorted(step.date for step in steps) == sorted(missing)
    assert exists_calls == []
    assert sorted(listed) == [f"{root}/2024-01", f"{root}/2024-02"]  # one listing per directory


def test_s3_directory_through_temporary_path_and_exists_many(s3_endpoint, bucket):
    folder = s3(bucket, "parts", s3_endpoint)
    with folder.temporary_path() as tmp:
        os.makedirs(tmp)
        for n in range(3):
            with open(os.path.join(tmp, f"part-{n}"), "w") as f:
                f.write(str(n))
    assert folder.exists()
    assert sorted(folder.fs.ls(f"{bucket}/parts", detail=False)) == [f"{bucket}/parts/part-{n}" for n in range(3)]
    urls = [f"s3://{bucket}/parts/part-{n}" for n in (0, 2, 5)]
    answer = trunq.RemoteTarget.exists_many(urls, client_kwargs={"endpoint_url": s3_endpoint})
    assert answer == {urls[0]: True, urls[1]: True, urls[2]: False}


def test_s3_read_stream_closed_when_the_block_fails(s3_endpoint, bucket):
    target = s3(bucket, "r.txt", s3_endpoint)
    with target.open("w") as f:
        f.write("line\n")
    with pytest.raises(KeyError):
        with target.open("r") as f:
            assert f.readline() == "line\n"
            raise KeyError("reader failed")
    assert f.closed


def test_a_run_records_remote_reads_and_writes(tmp_path):
    from trunq import runs

    source, result = trunq.RemoteTarget(_url("in.txt")), trunq.RemoteTarget(_url("out.txt"))
    with source.open("w") as f:
        f.write("x")
    with runs.run(name="remote_ctx", path=str(tmp_path / "run")) as run:
        with source.open("r") as f, result.open("w") as g:
            g.write(f.read())
    assert run.upstream_artifacts == [source.path]
    assert run.downstream_artifacts == [result.path]
