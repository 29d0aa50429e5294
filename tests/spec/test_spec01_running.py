"""Every code example of spec 01 (Running trunq), renamed, as a test."""

from __future__ import annotations

import trunq


class MyStep1(trunq.Step):
    x = trunq.IntParameter()
    y = trunq.IntParameter(default=0)

    def run(self):
        print(self.x + self.y)


class MyStep2(trunq.Step):
    x = trunq.IntParameter()
    y = trunq.IntParameter(default=1)
    z = trunq.IntParameter(default=2)

    def run(self):
        print(self.x * self.y * self.z)


def test_build_from_python(capsys, monkeypatch):
    monkeypatch.setenv("TRUNQ_RECORD_STEPS", "0")  # let the prints reach capsys
    assert trunq.build([MyStep1(x=10), MyStep2(x=15, z=3)]) is True
    printed = capsys.readouterr().out.split()
    assert "10" in printed and "45" in printed


def test_build_with_workers_and_local_scheduler():
    assert trunq.build([MyStep1(x=1)], workers=5, local_scheduler=True) is True


def test_detailed_summary():
    result = trunq.build([MyStep1(x=2)], detailed_summary=True)
    assert isinstance(result, trunq.TrunqRunResult)
    assert result.scheduling_succeeded
    assert result.summary_text.startswith("===== Trunq Execution Summary =====")
    assert result.one_line_summary == (
        "This progress looks :) because there were no failed steps or missing dependencies")


def test_run_parses_a_command_line(capsys, monkeypatch):
    monkeypatch.setenv("TRUNQ_RECORD_STEPS", "0")
    assert trunq.run(["MyStep2", "--x", "2", "--z", "5"], local_scheduler=True) is True
    assert "10" in capsys.readouterr().out.split()
    assert trunq.run(["--x", "3"], main_task_cls=MyStep1, local_scheduler=True, detailed_summary=True).status \
        == trunq.TrunqStatusCode.SUCCESS


def test_build_returns_false_when_a_step_fails():
    class Broken(trunq.Step):
        def run(self):
            raise RuntimeError("no")

    assert trunq.build([Broken()]) is False
