"""The fault catalogue: every bad input gives a clear error and a non-zero exit, no traceback,
within a bound, and leaves every file that existed before untouched.

All cases run at once in a thread pool (they are independent subprocesses); each case is
then checked by its own parametrized test.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.cases import CASES

TRUNQ = str(Path(sys.executable).with_name("trunq"))
BOUND = 45.0  # seconds a case may take under a loaded machine


@dataclass
class Outcome:
    code: int | None
    out: str
    err: str
    before: dict[str, str]
    after: dict[str, str]


def tree_hashes(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def run_case(workdir: Path, argv: list[str], files: dict[str, str], env: dict[str, str]) -> Outcome:
    workdir.mkdir(parents=True)
    for name, text in files.items():
        (workdir / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("TRUNQ") or key == "TRUNQ_TEST_MODE"}
    environ.update({"TRUNQ_REDIS_URL": "redis://127.0.0.1:1/0", "HOME": str(workdir),
                    "TRUNQ_RUNS_DIR": str(workdir / "runs")})
    environ.update({key: str(workdir / value) if key in ("TRUNQ_RUNS_DIR",) else value for key, value in env.items()})
    command = [sys.executable, *argv[1:]] if argv[0] == "python" else [TRUNQ, *argv]
    before = tree_hashes(workdir)
    try:
        done = subprocess.run(command, cwd=workdir, env=environ, capture_output=True, text=True, timeout=BOUND,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:  # run() killed it: report as a hang
        return Outcome(None, str(exc.stdout or ""), str(exc.stderr or ""), before, tree_hashes(workdir))
    return Outcome(done.returncode, done.stdout, done.stderr, before, tree_hashes(workdir))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    root = tmp_path_factory.mktemp("faults")
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {case_id: pool.submit(run_case, root / case_id, argv, files, env)
                   for case_id, argv, files, env, _, _ in CASES}
        return {case_id: future.result() for case_id, future in futures.items()}


def test_catalogue_is_large_and_ids_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) >= 100 and len(set(ids)) == len(ids)


@pytest.mark.parametrize(("case_id", "argv", "files", "env", "code", "needle"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(outcomes: dict[str, Outcome], case_id: str, argv: list[str], files: dict[str, str],
                   env: dict[str, str], code: int, needle: str) -> None:
    outcome = outcomes[case_id]
    text = outcome.err + outcome.out
    assert outcome.code is not None, f"{case_id} did not finish within {BOUND} s"
    assert outcome.code == code, f"exit {outcome.code}, wanted {code}:\n{text}"
    assert needle in text, text
    assert "Traceback" not in text, text
    changed = {name for name, digest in outcome.before.items() if outcome.after.get(name) != digest}
    assert not changed, f"files changed or removed: {sorted(changed)}"
