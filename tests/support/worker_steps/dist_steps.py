"""Steps the distributed tests build; imported as ``dist_steps`` by clients and workers.

Every step takes ``root`` (a per-test directory) and records each execution of ``run()``
as two lines appended (O_APPEND) to ``root/executions.log``: ``start <step_id> <pid> <t>``
and ``end <step_id> <pid> <t>``, so tests can count executions and check overlaps.
"""

from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path

import trunq

LAYERS, WIDTH = 30, 10  # the overlapping graph: 300 DistNode steps


def record(root: str, event: str, step_id: str) -> None:
    line = f"{event} {step_id} {os.getpid()} {time.time():.6f}\n".encode()
    fd = os.open(os.path.join(root, "executions.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def executions(root: str | Path) -> list[tuple[str, str, int, float]]:
    """(event, step_id, pid, time) for every line of the executions log."""
    path = Path(root) / "executions.log"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        event, step_id, pid, stamp = line.split()
        rows.append((event, step_id, int(pid), float(stamp)))
    return rows


class DistBase(trunq.Step):
    root = trunq.Parameter()
    sleep = trunq.FloatParameter(default=0.0, significant=False)

    def output(self) -> trunq.LocalTarget:
        return trunq.LocalTarget(os.path.join(self.root, "out", self.step_id))

    def work(self) -> None:
        """What the step does between its start and end records."""
        if self.sleep:
            time.sleep(self.sleep)

    def run(self) -> None:
        record(self.root, "start", self.step_id)
        self.work()
        with self.output().open("w") as out:
            out.write(str(os.getpid()))
        record(self.root, "end", self.step_id)


class DistLeaf(DistBase):
    n = trunq.IntParameter()


class DistFan(DistBase):
    width = trunq.IntParameter(default=4)

    def requires(self) -> list[DistLeaf]:
        return [DistLeaf(root=self.root, n=n, sleep=self.sleep) for n in range(self.width)]


class DistDynamic(DistBase):
    """Yields two leaves from run(), then writes the sum of what they wrote."""

    def run(self):  # type: ignore[override]
        record(self.root, "start", self.step_id)
        targets = yield [DistLeaf(root=self.root, n=100), DistLeaf(root=self.root, n=101)]
        pids = [target.open().read() for target in targets]
        with self.output().open("w") as out:
            out.write(",".join(pids))
        record(self.root, "end", self.step_id)


class DistDay(DistBase):
    """Spec 03's batch example: ``date`` batches with max, one run covers the older days."""

    date = trunq.DateParameter(batch_method=max)

    def output(self) -> trunq.LocalTarget:
        return trunq.LocalTarget(os.path.join(self.root, "out", f"day-{self.date:%Y-%m-%d}"))

    def complete(self) -> bool:
        out = Path(self.root) / "out"
        return out.exists() and any(p.name >= f"day-{self.date:%Y-%m-%d}" for p in out.glob("day-*"))


class DistDays(DistBase):
    days = trunq.IntParameter(default=3)

    def requires(self) -> list[DistDay]:
        import datetime

        first = datetime.date(2016, 7, 28)
        return [DistDay(root=self.root, date=first + datetime.timedelta(days=i)) for i in range(self.days)]


class DistExclusive(DistBase):
    """Needs the one unit of the ``gpu`` resource (config ``[resources] gpu = 1``)."""

    n = trunq.IntParameter()
    resources = {"gpu": 1}


class DistGpuFan(DistBase):
    first = trunq.IntParameter(default=0)
    count = trunq.IntParameter(default=4)

    def requires(self) -> list[DistExclusive]:
        return [DistExclusive(root=self.root, n=n, sleep=self.sleep) for n in range(self.first, self.first + self.count)]


class DistGreedy(DistBase):
    """Asks two units of ``gpu`` whose capacity is one: it can never run."""

    resources = {"gpu": 2}


class DistAfterGreedy(DistBase):
    def requires(self) -> DistGreedy:
        return DistGreedy(root=self.root)


class DistReporter(DistBase):
    """Reports a status message and progress, then waits for ``root/go``."""

    def work(self) -> None:
        self.set_status_message("half way there")
        self.set_progress_percentage(50)
        deadline = time.time() + 30
        while not os.path.exists(os.path.join(self.root, "go")) and time.time() < deadline:
            time.sleep(0.05)


class DistChatty(DistBase):
    """Answers every message with ``echo: <text>`` until it receives ``stop``."""

    accepts_messages = True

    def work(self) -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            inbox = self.scheduler_messages
            while not inbox.empty():
                message = inbox.get()
                message.respond(f"echo: {message.content}")
                if message.content == "stop":
                    return
            time.sleep(0.05)


class DistVictim(DistBase):
    """Its first execution waits to be killed (pid in ``root/victim.pid``); later ones finish."""

    def work(self) -> None:
        if sum(1 for row in executions(self.root) if row[0] == "start" and row[1] == self.step_id) == 1:
            Path(self.root, "victim.pid").write_text(str(os.getpid()))
            time.sleep(60)


class DistSegfault(DistBase):
    def work(self) -> None:
        ctypes.string_at(0)  # reads address 0: SIGSEGV


class DistNode(DistBase):
    """One of LAYERS x WIDTH steps; each needs two steps of the layer below."""

    layer = trunq.IntParameter()
    index = trunq.IntParameter()

    def requires(self) -> list[DistNode]:
        if self.layer == 0:
            return []
        below = self.layer - 1
        return [DistNode(root=self.root, layer=below, index=self.index),
                DistNode(root=self.root, layer=below, index=(self.index + 1) % WIDTH)]


class DistGraph(DistBase):
    """Needs the top-layer nodes first..last (the clients of a test pick overlapping ranges)."""

    first = trunq.IntParameter()
    last = trunq.IntParameter()

    def requires(self) -> list[DistNode]:
        return [DistNode(root=self.root, layer=LAYERS - 1, index=i) for i in range(self.first, self.last + 1)]


class DistExit(DistBase):
    """Ends its own process, as a step calling ``os._exit`` (or a C library's ``exit``) does."""

    def work(self) -> None:
        os._exit(3)


class DistTooSlow(DistBase):
    """Needs 30 s but may take 1 (``worker_timeout``)."""

    worker_timeout = 1

    def work(self) -> None:
        time.sleep(30)


class DistAlwaysFails(DistBase):
    """Fails every time; luigi runs it retry_count times, then disables it."""

    retry_count = 1

    def work(self) -> None:
        raise RuntimeError("always fails")


class DistFailsTwice(DistAlwaysFails):
    retry_count = 2


class DistAfterFailure(DistBase):
    def requires(self) -> DistBase:
        return DistAlwaysFails(root=self.root)


class DistTopOfFailure(DistBase):
    def requires(self) -> DistBase:
        return DistAfterFailure(root=self.root)


class DistWaiter(DistBase):
    """Holds the ``gpu`` unit, writes its pid to ``root/waiter.pid`` and waits for ``root/go``."""

    resources = {"gpu": 1}

    def work(self) -> None:
        Path(self.root, "waiter.pid").write_text(str(os.getpid()))
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(self.root, "go")) and time.time() < deadline:
            time.sleep(0.05)


class DistLateData(trunq.ExternalStep):
    """Data made outside trunq: ``late.data``, written by DistMakesLate a moment after it ran."""

    root = trunq.Parameter()

    def output(self) -> trunq.LocalTarget:
        return trunq.LocalTarget(os.path.join(self.root, "late.data"))


class DistMakesLate(DistBase):
    def work(self) -> None:
        import threading

        path = os.path.join(self.root, "late.data")
        threading.Timer(1.5, lambda: Path(path).write_text("late")).start()


class DistUsesLate(DistBase):
    """Needs the late data: runs only when incomplete externals are checked again."""

    def requires(self) -> list[trunq.Step]:
        return [DistMakesLate(root=self.root), DistLateData(root=self.root)]


class DistChunkLeaf(DistBase):
    """Writes the name of the Celery task that ran it (chunks: ``trunq.execute_chunk``);
    ``fail_index`` fails, ``victim_index`` waits to be killed on its first execution."""

    index = trunq.IntParameter()
    fail_index = trunq.IntParameter(default=-1, significant=False)
    victim_index = trunq.IntParameter(default=-1, significant=False)

    def work(self) -> None:
        super().work()
        if self.index == self.fail_index:
            raise RuntimeError(f"member {self.index} fails")
        if self.index == self.victim_index and len([row for row in executions(self.root)
                                                    if row[0] == "start" and row[1] == self.step_id]) == 1:
            Path(self.root, "victim.pid").write_text(str(os.getpid()))
            time.sleep(60)

    def run(self) -> None:
        from celery import current_task

        record(self.root, "start", self.step_id)
        self.work()
        with self.output().open("w") as out:
            out.write(current_task.name if current_task else "")
        record(self.root, "end", self.step_id)


class DistChunkFan(DistBase):
    width = trunq.IntParameter(default=40)
    fail_index = trunq.IntParameter(default=-1, significant=False)
    victim_index = trunq.IntParameter(default=-1, significant=False)

    def requires(self) -> list[DistChunkLeaf]:
        return [DistChunkLeaf(root=self.root, index=i, sleep=self.sleep, fail_index=self.fail_index,
                              victim_index=self.victim_index) for i in range(self.width)]
