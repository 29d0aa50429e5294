"""Steps that keep running until told otherwise, for the cancel tests and the web UI tests
against a real build; imported as ``live_steps`` by clients and workers.

Every step takes ``root`` (a per-test directory). A file ``root/stop`` ends every waiting
step (the tests' cleanup), so no step outlives its test by more than a moment.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import trunq

XSS_TEXT = "<script>document.title='pwned'</script>"
MAX_WAIT_S = 60.0


class LiveBase(trunq.Step):
    root = trunq.Parameter()

    def output(self) -> trunq.LocalTarget:
        # step ids hold the root path and markup: a digest makes a safe file name
        name = hashlib.sha1(self.step_id.encode()).hexdigest()
        return trunq.LocalTarget(os.path.join(self.root, "out", name))

    def stop_requested(self) -> bool:
        return os.path.exists(os.path.join(self.root, "stop"))

    def write_pid(self, name: str) -> None:
        Path(self.root, name).write_text(str(os.getpid()))

    def finish(self) -> None:
        with self.output().open("w") as out:
            out.write(str(os.getpid()))


class LivePart(LiveBase):
    """Part ``part`` of a chain: needs the part before it, takes ``pause`` seconds."""

    part = trunq.IntParameter()
    pause = trunq.FloatParameter(default=0.5, significant=False)

    def requires(self) -> list[LivePart]:
        return [LivePart(root=self.root, part=self.part - 1, pause=self.pause)] if self.part > 0 else []

    def run(self) -> None:
        time.sleep(self.pause)
        self.finish()


class LiveNote(LiveBase):
    text = trunq.Parameter()

    def run(self) -> None:
        self.finish()


class LiveListener(LiveBase):
    """Answers each message with ``echo: <text>`` until ``stop`` (or the stop file)."""

    accepts_messages = True

    def run(self) -> None:
        self.set_status_message("listening")
        deadline = time.time() + MAX_WAIT_S
        while time.time() < deadline and not self.stop_requested():
            inbox = self.scheduler_messages
            while not inbox.empty():
                message = inbox.get()
                message.respond(f"echo: {message.content}")
                if message.content == "stop":
                    self.finish()
                    return
            time.sleep(0.05)
        self.finish()


class LiveSleeper(LiveBase):
    """Sleeps until stopped (its pid in ``root/sleeper.pid``): the step a test cancels."""

    def run(self) -> None:
        self.write_pid("sleeper.pid")
        deadline = time.time() + MAX_WAIT_S
        while time.time() < deadline and not self.stop_requested():
            time.sleep(0.05)
        self.finish()


class LiveStubborn(LiveBase):
    """Swallows every interruption (pid in ``root/stubborn.pid``): it must be killed."""

    def run(self) -> None:
        self.write_pid("stubborn.pid")
        deadline = time.time() + MAX_WAIT_S
        while time.time() < deadline and not self.stop_requested():
            try:
                time.sleep(0.05)
            except BaseException:  # noqa: BLE001, S110 - the point of this step
                pass
        self.finish()


class LiveReport(LiveBase):
    """A build to watch: a chain of ``parts``, a note with markup, a sleeper, a listener."""

    parts = trunq.IntParameter(default=8)
    listen = trunq.BoolParameter(default=True)

    def requires(self) -> list[LiveBase]:
        needs: list[LiveBase] = [LivePart(root=self.root, part=self.parts - 1), LiveNote(root=self.root, text=XSS_TEXT),
                                 LiveSleeper(root=self.root)]
        if self.listen:
            needs.append(LiveListener(root=self.root))
        return needs

    def run(self) -> None:
        self.finish()
