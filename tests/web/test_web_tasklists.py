"""TaskList directories in the UI: counts, each task's Run and its output, nothing outside."""

from __future__ import annotations

import sys
from pathlib import Path

from web_tasklist_funcs import broken, shout

from trunq.scheduler.memory import MemoryStateStore
from trunq.tasklist import TaskList, defer
from trunq.web import create_app


def run_tasklist(directory: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))  # the task processes import web_tasklist_funcs
    tasklist = TaskList(str(directory))
    tasklist.schedule(defer(shout, "hello"))
    tasklist.schedule(defer(broken, "<b>this</b>"))
    results = list(tasklist.run(nprocesses=2))
    assert len(results) == 2


def test_configured_tasklists_show_counts_runs_and_logs(tmp_path: Path) -> None:
    directory = tmp_path / "tl"
    run_tasklist(directory)
    client = create_app({"tasklist_dirs": str(directory)}, store=MemoryStateStore(),
                        runs_root=tmp_path / "runs").test_client()

    listed = client.get("/api/tasklists").get_json()["tasklists"]
    assert listed == [{"dir": str(directory.resolve()), "todo": 0, "done": 1, "fail": 1}]

    detail = client.get("/api/tasklist", query_string={"dir": str(directory)}).get_json()
    assert detail["counts"] == {"todo": 0, "done": 1, "fail": 1}
    by_status = {run["status"]: run for run in detail["runs"]}
    assert set(by_status) == {"COMPLETED", "ERROR"}
    assert "cannot handle" in by_status["ERROR"]["error"]

    done = by_status["COMPLETED"]["name"]
    log = client.get(f"/api/tasklist/{done}/stdout", query_string={"dir": str(directory)}).get_json()
    assert "shouting hello" in log["text"]

    page = client.get("/tasklists", query_string={"dir": str(directory)})
    assert page.status_code == 200 and b"tasklists.js" in page.data


def test_only_configured_directories_and_names_inside_them(tmp_path: Path) -> None:
    directory = tmp_path / "tl"
    run_tasklist(directory)
    client = create_app({"tasklist_dirs": str(directory)}, store=MemoryStateStore(),
                        runs_root=tmp_path / "runs").test_client()
    other = client.get("/api/tasklist", query_string={"dir": str(tmp_path)})
    assert other.status_code == 404
    for name in ("..", "%2e%2e", "..%2F..%2Fetc"):
        escaped = client.get(f"/api/tasklist/{name}/stdout", query_string={"dir": str(directory)})
        assert escaped.status_code in (400, 404)
    empty = create_app({}, store=MemoryStateStore(), runs_root=tmp_path / "runs").test_client()
    assert empty.get("/api/tasklists").get_json() == {"tasklists": []}
