"""Plays a distributed build against a state store the way ``trunq build`` + workers do.

Registers a small DAG, then runs it leaf first with real leases (acquire → start →
finish with the fencing token), heartbeats, counted resources and a step that answers
messages (``take_messages`` / ``respond``) until it is told to stop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from trunq.scheduler.state import StateStore, StepRecord

ROOT_ID = "Report(date=2024-05-01)"
LISTENER_ID = "Listen(channel=ops)"
XSS_ID = "Note(text=<script>alert(1)</script>)"
XSS_VALUE = "<script>document.title='pwned'</script>"


def fetch_id(part: int) -> str:
    return f"Fetch(part={part})"


def extract_id(part: int) -> str:
    return f"Extract(part={part})"


def build_records(parts: int) -> list[StepRecord]:
    records = [StepRecord(fetch_id(i), "Fetch", module="etl", params={"part": str(i)}, resources={"db": 1})
               for i in range(parts)]
    records += [StepRecord(extract_id(i), "Extract", module="etl", params={"part": str(i)}, deps=[fetch_id(i)])
                for i in range(parts)]
    records.append(StepRecord(LISTENER_ID, "Listen", module="etl", params={"channel": "ops"},
                              accepts_messages=True))
    records.append(StepRecord(XSS_ID, "Note", module="etl", params={"text": XSS_VALUE}))
    deps = [extract_id(i) for i in range(parts)] + [LISTENER_ID, XSS_ID]
    records.append(StepRecord(ROOT_ID, "Report", module="etl", params={"date": "2024-05-01"}, deps=deps))
    return records


class BuildDriver:
    """Runs the DAG in a thread; ``step_seconds`` paces the steps so a browser can watch."""

    def __init__(self, store: StateStore, parts: int = 6, step_seconds: float = 0.4, worker: str = "worker-1") -> None:
        self.store = store
        self.parts = parts
        self.step_seconds = step_seconds
        self.worker = worker
        self.stop_listener = threading.Event()
        self.stopped = threading.Event()
        self.heard: list[str] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> BuildDriver:
        self.store.register(build_records(self.parts))
        self._spawn(self._heartbeats)
        self._spawn(self._listener)
        self._spawn(self._main_line)
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.stop_listener.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _spawn(self, target: object) -> None:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _heartbeats(self) -> None:
        while not self.stopped.is_set():
            self.store.heartbeat(self.worker, {"host": "127.0.0.1", "pid": 4242, "concurrency": 2}, ttl_ms=5000)
            self.stopped.wait(1.0)

    def _run_step(self, step_id: str, wants: dict[str, int] | None = None) -> None:
        token = self.store.acquire(step_id, self.worker, ttl_ms=60_000)
        assert token is not None, f"lease of {step_id} is taken"
        self.store.start(step_id, token, self.worker)
        if wants:
            self.store.acquire_resources(step_id, wants, {"db": 2}, ttl_ms=60_000)
        for tenth in range(1, 5):
            self.store.update(step_id, progress=tenth * 25.0, status_message=f"chunk {tenth} of 4")
            if self.stopped.wait(self.step_seconds / 4):
                return
        self.store.finish([(step_id, token)], "DONE", holder=step_id if wants else None)

    def _run_all(self, step_ids: Iterable[str], wants: dict[str, int] | None = None) -> None:
        for step_id in step_ids:
            if self.stopped.is_set():
                return
            self._run_step(step_id, wants)

    def _main_line(self) -> None:
        self._run_all([fetch_id(i) for i in range(self.parts)], {"db": 1})
        self._run_all([extract_id(i) for i in range(self.parts)])
        self._run_all([XSS_ID])

    def _listener(self) -> None:
        """A running step with ``accepts_messages``: echoes each message until "stop"."""
        token = self.store.acquire(LISTENER_ID, self.worker, ttl_ms=120_000)
        self.store.start(LISTENER_ID, token, self.worker)
        self.store.update(LISTENER_ID, status_message="listening")
        while not self.stop_listener.is_set():
            for message_id, content in self.store.take_messages(LISTENER_ID):
                self.heard.append(content)
                if content == "stop":
                    self.stop_listener.set()
                self.store.respond(LISTENER_ID, message_id, f"echo: {content}")
            time.sleep(0.05)
        self.store.finish([(LISTENER_ID, token)], "DONE")
