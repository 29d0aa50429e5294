"""A worker in another directory than the client warns about relative output paths."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import trunq
from trunq.tasks import cwd_check


class RelOut(trunq.Step):
    def output(self):
        return trunq.LocalTarget("out/rel.txt")


class AbsOut(trunq.Step):
    def output(self):
        return trunq.LocalTarget("/tmp/trunq-abs-out.txt")


def test_relative_outputs_elsewhere_warn_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cwd_check, "_warned", set())
    payload = {"cwd": "/some/client/dir"}
    with caplog.at_level(logging.WARNING, logger="trunq.worker"):
        cwd_check.warn_if_elsewhere(payload, RelOut())
        cwd_check.warn_if_elsewhere(payload, RelOut())
        cwd_check.warn_if_elsewhere({"cwd": str(tmp_path)}, RelOut())
        cwd_check.warn_if_elsewhere({"cwd": "/other"}, AbsOut())
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "/some/client/dir" in warnings[0] and str(tmp_path) in warnings[0] and "out/rel.txt" in warnings[0]
