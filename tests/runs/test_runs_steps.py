"""record_step: every execution of a step becomes a STEP run (a journal line or a folder)."""

from __future__ import annotations

import json

import pytest

import trunq.runs as runs
from trunq.runs import RunStatus, RunType, journal
from trunq.runs.steps import record_step


class FakeTarget:
    def __init__(self, path):
        self.path = path


class FakeStep:
    step_family = "Report"
    step_id = "Report_2024_01_01_abc123"

    def input(self):
        return {"sales": FakeTarget("/data/sales.csv"), "costs": [FakeTarget("/data/costs.csv")]}

    def output(self):
        return FakeTarget("/data/report.txt")

    def to_str_params(self):
        return {"date": "2024-01-01"}


def _only_run(runs_dir):
    """The one run recorded, which must have a folder of its own."""
    folders = [p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(folders) == 1
    assert runs.list_runs() == [runs.Run(path=folders[0])]
    return runs.Run(path=folders[0])


def test_step_execution_is_recorded_with_artifacts_and_output(runs_dir):
    with record_step(FakeStep()) as recording:
        print("computing the report")
        runs.note_artifact("/data/extra_lookup.csv", "upstream")

    record = _only_run(runs_dir)
    assert record.name == recording.run.name and record.name.startswith("Report_2024_01_01_abc123@")
    assert record.run_type == RunType.STEP_RUN
    assert record.status == RunStatus.COMPLETED
    assert record.step == {"family": "Report", "step_id": "Report_2024_01_01_abc123",
                           "params": {"date": "2024-01-01"}}
    assert record.upstream_artifacts == ["/data/sales.csv", "/data/costs.csv", "/data/extra_lookup.csv"]
    assert record.downstream_artifacts == ["/data/report.txt"]
    assert record.stdout() == "computing the report\n"
    assert not record.stderr_path.exists()  # empty streams leave no file
    assert record.start_time <= record.end_time


def test_failing_step_is_recorded_as_error_and_reraised(runs_dir):
    with pytest.raises(ZeroDivisionError):
        with record_step(FakeStep()):
            _ = 1 / 0

    record = _only_run(runs_dir)
    assert record.status == RunStatus.ERROR
    assert "ZeroDivisionError" in record.error
    assert "_ = 1 / 0" in record.traceback
    raw = json.loads(record.config_path.read_text())
    assert raw["status"] == "ERROR"


def test_recording_can_be_switched_off(runs_dir, monkeypatch):
    monkeypatch.setenv("TRUNQ_RECORD_STEPS", "0")
    with record_step(FakeStep()) as run:
        print("not recorded")
    assert run is None
    assert not runs_dir.exists() or not list(runs_dir.iterdir())


def test_step_runs_are_listed_by_family(runs_dir):
    for _ in range(3):
        with record_step(FakeStep()):
            pass
    assert len(runs.list_runs(step_family="Report", run_type="STEP")) == 3
    assert runs.list_runs(step_family="Other") == []


def test_journal_line_reads_back_as_the_run_config(runs_dir):
    with record_step(FakeStep()) as recording:
        pass  # silent and successful: a journal line, no folder
    run = recording.run

    [journal_file] = (runs_dir / ".journal").iterdir()
    header, line = journal_file.read_text().splitlines()
    assert json.loads(header)["pid"] == run.pid
    assert line.startswith(f'{{"name": "{run.name}", ')  # the name first: lookups are substring searches
    assert list(journal.read_journal(journal_file)) == [run.config()]
    assert runs.load_run(run.name).config() == run.config()


class OddStep(FakeStep):
    """A step id that is not a folder name, and a parameter that is not a string."""

    step_id = "Report/odd_2024_abc123"

    def to_str_params(self):
        return {"date": "2024-01-01", "limit": 3, "note": 'quote " and \u00e9'}


def test_unusual_ids_and_values_read_back_unchanged(runs_dir):
    with record_step(OddStep()) as recording:
        pass
    run = recording.run
    assert run.name.startswith("Report_odd_2024_abc123@")
    loaded = runs.load_run(run.name)
    assert loaded.config() == run.config()
    assert loaded.step == {"family": "Report", "step_id": "Report/odd_2024_abc123",
                           "params": {"date": "2024-01-01", "limit": 3, "note": 'quote " and \u00e9'}}
    assert runs.runs_of_step("Report/odd_2024_abc123") == [loaded]


def test_a_step_id_differing_from_the_run_name_survives_the_compact_line(runs_dir):
    class SlashStep(FakeStep):
        step_id = "Report/2024_abc123"

    with record_step(SlashStep()) as recording:
        pass
    [loaded] = runs.list_runs()
    assert loaded.step["step_id"] == "Report/2024_abc123" and loaded.name == recording.run.name


def test_a_recording_session_keeps_one_pair_of_routers_and_restores_the_streams(runs_dir):
    import sys

    from trunq.runs import capture
    from trunq.runs.steps import recording_session

    before = sys.stdout, sys.stderr
    with recording_session():
        router = sys.stdout
        assert isinstance(router, capture._Router)
        for n in range(2):
            with record_step(FakeStep()):
                print(f"step {n}")
            assert sys.stdout is router  # nothing installed or removed per step
    assert (sys.stdout, sys.stderr) == before
    assert sorted(r.stdout() for r in runs.list_runs()) == ["step 0\n", "step 1\n"]


def test_artifacts_noted_by_one_run_do_not_leak_into_the_next(runs_dir):
    from trunq.core.graph import output_paths

    step = FakeStep()
    for _ in range(2):
        with record_step(step) as recording:
            runs.note_artifact("/data/side_output.txt", "downstream")
        assert recording.run.downstream_artifacts == ["/data/report.txt", "/data/side_output.txt"]
    assert output_paths(step) == ["/data/report.txt"]
