"""The history database on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trunq.history import History, HistorySchemaError

DAY1 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def _record_family(history):
    history.step_event("Load_a", "Load", {"part": "a"}, "RUNNING", ts=DAY1, worker="w1")
    history.step_event("Load_a", "Load", {"part": "a"}, "DONE", ts=DAY1 + timedelta(seconds=2),
                       duration=2.0, worker="w1")
    history.step_event("Load_b", "Load", {"part": "b"}, "FAILED", ts=DAY1 + timedelta(seconds=5),
                       duration=1.0, error="ValueError: bad row")
    history.bulk_step_events([
        {"step_id": "Load_a", "family": "Load", "params": {"part": "a"}, "status": "done", "ts": DAY2,
         "duration": 4.0},
        {"step_id": "Report_x", "family": "Report", "params": {}, "status": "DONE", "ts": DAY2,
         "duration": 0.5},
    ])


def test_step_events_and_family_queries(history):
    _record_family(history)

    assert history.families() == ["Load", "Report"]
    events = history.step_events("Load_a")
    assert [e.status for e in events] == ["RUNNING", "DONE", "DONE"]
    assert events[0].params == {"part": "a"} and events[0].worker == "w1"
    assert events[0].ts == DAY1

    last = history.last_run("Load_a")
    assert (last.status, last.duration, last.ts) == ("DONE", 4.0, DAY2)
    assert history.last_run("missing") is None

    family = history.family_runs("Load")
    assert [(e.step_id, e.status) for e in family] == [("Load_a", "DONE"), ("Load_b", "FAILED"),
                                                       ("Load_a", "DONE")]
    assert [e.ts for e in history.family_runs("Load", since=DAY2)] == [DAY2]
    assert len(history.family_runs("Load", limit=1)) == 1

    failures = history.failures()
    assert [(f.step_id, f.error) for f in failures] == [("Load_b", "ValueError: bad row")]
    assert history.failures(since=DAY2) == []


def test_family_stats_over_time(history):
    _record_family(history)

    stats = history.family_stats("Load")
    assert (stats["runs"], stats["failures"]) == (3, 1)
    assert stats["mean_duration"] == pytest.approx(7.0 / 3)
    assert (stats["min_duration"], stats["max_duration"]) == (1.0, 4.0)
    assert [(d["day"], d["runs"], d["failures"]) for d in stats["by_day"]] == [
        ("2024-03-01", 2, 1), ("2024-03-02", 1, 0)]
    assert history.family_stats("Nothing")["runs"] == 0


def test_run_index_upserts_from_a_run_config(history):
    config = {"name": "Load_a@20240301T120000.000000Z", "status": "RUNNING", "run_type": "STEP",
              "start_time": DAY1.isoformat(), "end_time": None, "fn_name": None, "cmds": None,
              "upstream_artifacts": ["/in"], "downstream_artifacts": ["/out"],
              "step": {"family": "Load", "step_id": "Load_a", "params": {"part": "a"}}}
    history.index_run(config)
    history.index_run({**config, "status": "COMPLETED", "end_time": (DAY1 + timedelta(seconds=3)).isoformat()})

    [row] = history.runs(family="Load")
    assert (row.status, row.duration, row.step_id) == ("COMPLETED", 3.0, "Load_a")
    assert row.config["downstream_artifacts"] == ["/out"]
    assert history.runs(status="ERROR") == []


def test_schema_version_is_recorded_and_checked(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    History.from_url(url).close()
    import sqlite3

    with sqlite3.connect(tmp_path / "h.sqlite3") as db:
        assert db.execute("SELECT version FROM trunq_schema_version").fetchall() == [(1,)]
        db.execute("INSERT INTO trunq_schema_version VALUES (99)")
    with pytest.raises(HistorySchemaError, match="v99 is newer"):
        History.from_url(url)


def test_default_location_is_the_runs_root(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUNQ_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("TRUNQ_HISTORY_URL", raising=False)
    store = History.from_url()
    store.step_event("A_1", "A", {}, "DONE", duration=0.1)
    store.close()
    assert (tmp_path / "runs" / "history.sqlite3").is_file()


@pytest.mark.postgres
def test_history_url_from_environment(postgres_url, monkeypatch):
    monkeypatch.setenv("TRUNQ_HISTORY_URL", postgres_url)
    store = History.from_url()
    try:
        store.step_event("A_1", "A", {"k": "v"}, "DONE", duration=0.1)
        assert store.engine.dialect.name == "postgresql"
        assert store.last_run("A_1").params == {"k": "v"}
    finally:
        store.close()
