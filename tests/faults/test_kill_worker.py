"""The kill/term/int matrix for ``trunq worker`` and ``celery -A trunq worker`` on a real Redis.

A worker signalled while it runs a step: SIGTERM/SIGINT are Celery's warm shutdown (the step
in hand finishes DONE, then exit 0, no traceback); SIGKILL takes its pool processes along and
the step is lost, then run again by the next worker. Either way no pool process is left, and a
new worker picks up the pending work at once, so the build completes.
"""

from __future__ import annotations

import signal
import time

import psutil
import pytest

from tests.faults.killing import alive
from tests.support.cluster import running_cluster
from tests.waiting import wait_for

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize("via_trunq", [True, False], ids=["trunq-worker", "celery-worker"])
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, -9), (signal.SIGTERM, 0), (signal.SIGINT, 0)],
                         ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_worker_signal_matrix(tmp_path_factory: pytest.TempPathFactory, signum: int, code: int,
                              via_trunq: bool) -> None:
    workdir = tmp_path_factory.mktemp("worker-kill")
    root = workdir / "data"
    (root / "out").mkdir(parents=True)
    with running_cluster(workdir, workers=0) as cluster:
        first = cluster.start_worker("first", via_trunq=via_trunq)
        cluster.wait_for_workers(1)
        client = cluster.spawn("build", "FaultChain", "--module", "fault_steps", "--root", str(root), "--no-lock")
        started = root / "slow.started"
        wait_for(started.exists, timeout=60, what="the worker to start the slow step")
        pool = [child.pid for child in psutil.Process(first.pid).children(recursive=True)]
        sent = time.monotonic()
        first.send_signal(signum)
        assert first.wait(timeout=30) == code
        assert time.monotonic() - sent < 30
        wait_for(lambda: not alive(pool), timeout=20, what="the worker's pool processes to exit")
        log = (workdir / "first.log").read_text()
        if signum != signal.SIGKILL:
            assert "Traceback" not in log, log
            assert (root / "out" / "slow.txt").read_text() == "slow"  # warm: the step in hand finished

        cluster.start_worker("second", via_trunq=via_trunq)
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err + out
        assert (root / "out" / "chain.txt").read_text() == "chain"
        assert (root / "out" / "slow.txt").read_text() == "slow"
        runs = started.read_text().split()
        assert len(runs) == (2 if signum == signal.SIGKILL else 1)
