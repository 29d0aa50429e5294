"""A build writes its step events to the history database."""

from __future__ import annotations

import trunq
from trunq.config import Configuration, set_config
from trunq.history import History


def test_build_records_step_events_in_history(tmp_path):
    set_config(Configuration({"history": {"record_local": "true"}}))

    class Recorded(trunq.Step):
        n = trunq.IntParameter()

        def output(self):
            return trunq.LocalTarget(tmp_path / f"r{self.n}")

        def run(self):
            if self.n == 2:
                raise ValueError("two is bad")
            with self.output().open("w") as f:
                f.write("x")

    trunq.build([Recorded(n) for n in range(3)])
    history = History.from_url()
    try:
        runs = history.family_runs("Recorded")
        assert sorted(r.status for r in runs) == ["DONE", "DONE", "FAILED"]
        failed = [r for r in runs if r.status == "FAILED"][0]
        assert "two is bad" in failed.error
        assert history.last_run(Recorded(0).step_id).status == "DONE"
    finally:
        history.close()
