"""The trunq command as a user types it: output, exit status, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.waiting import wait_for

MODULE = textwrap.dedent('''
    import os
    import trunq

    class MyStep(trunq.Step):
        x = trunq.IntParameter()
        y = trunq.IntParameter(default=45)
        my_parameter = trunq.IntParameter(default=0)

        def run(self):
            print(self.x + self.y + self.my_parameter)

    class Dated(trunq.Step):
        date = trunq.DateParameter()

        def output(self):
            return trunq.LocalTarget(f"out/dated-{self.date}")

        def run(self):
            with self.output().open("w") as f:
                f.write("x")

    class Boom(trunq.Step):
        def output(self):
            return trunq.LocalTarget("out/boom")

        def run(self):
            raise RuntimeError("boom")

    class Missing(trunq.ExternalStep):
        def output(self):
            return trunq.LocalTarget("out/not-there")

    class NeedsMissing(trunq.Step):
        def requires(self):
            return Missing()

        def output(self):
            return trunq.LocalTarget("out/needs")

    class ReturnsTarget(trunq.Step):
        def requires(self):
            return trunq.LocalTarget("out/x")

    class Loop(trunq.Step):
        def requires(self):
            return Loop2()

    class Loop2(trunq.Step):
        def requires(self):
            return Loop()

    class Flagged(trunq.Step):
        verbose = trunq.BoolParameter()
        other = trunq.IntParameter(default=1)

        def run(self):
            print("verbose" if self.verbose else "quiet", self.other)
''')


@pytest.fixture
def project(tmp_path):
    (tmp_path / "my_module.py").write_text(MODULE)
    return tmp_path


def trunq(project, *args, env=None):
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("TRUNQ_CONFIG_PATH", None)
    full_env.update(env or {})
    return subprocess.run(["trunq", *args], cwd=project, capture_output=True, text=True, env=full_env, timeout=120)


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_spec01_command_lines(project):
    result = trunq(project, "--module", "my_module", "MyStep", "--x", "123", "--y", "456", "--local-scheduler")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "579"
    assert "===== Trunq Execution Summary =====" in result.stdout
    assert "* 1 ran successfully:\n    - 1 MyStep(x=123, y=456, my_parameter=0)" in result.stdout

    result = subprocess.run([sys.executable, "-m", "trunq", "--module", "my_module", "MyStep", "--x", "100",
                             "--local-scheduler"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.splitlines()[0] == "145"

    result = trunq(project, "--module", "my_module", "MyStep", "--x", "1", "--my-parameter", "100", "--local-scheduler")
    assert result.stdout.splitlines()[0] == "146"


def test_build_subcommand_is_the_same(project):
    result = trunq(project, "build", "MyStep", "--module", "my_module", "--x", "1", "--local-scheduler")
    assert result.returncode == 0 and result.stdout.splitlines()[0] == "46"


def test_class_level_parameter_and_bool_flag(project):
    result = trunq(project, "build", "Flagged", "--module", "my_module", "--verbose", "--Flagged-other", "7",
                   "--local-scheduler")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "verbose 7"


def test_workers_and_exit_status_on_failure(project):
    ok = trunq(project, "build", "Dated", "--module", "my_module", "--date", "2015-01-02", "--workers", "2",
               "--local-scheduler")
    assert ok.returncode == 0 and os.path.exists(project / "out" / "dated-2015-01-02")
    again = trunq(project, "build", "Dated", "--module", "my_module", "--date", "2015-01-02", "--local-scheduler")
    assert again.returncode == 0 and "Did not run any steps" in again.stdout
    failed = trunq(project, "build", "Boom", "--module", "my_module", "--local-scheduler")
    assert failed.returncode == 1
    assert "* 1 failed:" in failed.stdout and "RuntimeError: boom" in failed.stderr
    missing = trunq(project, "build", "NeedsMissing", "--module", "my_module", "--local-scheduler")
    assert missing.returncode == 3
    assert "were missing external dependencies" in missing.stdout


@pytest.mark.parametrize(("args", "fragments"), [
    (["--module", "nosuch", "MyStep", "--local-scheduler"], ["cannot import module 'nosuch'"]),
    (["--module", "my_module", "NoSuchStep", "--local-scheduler"], ["unknown step family 'NoSuchStep'"]),
    (["--module", "my_module", "MyStep", "--x", "1", "--z", "2", "--local-scheduler"], ["unknown parameter --z"]),
    (["--module", "my_module", "MyStep", "--local-scheduler"], ["requires the 'x' parameter"]),
    (["--module", "my_module", "MyStep", "--x", "abc", "--local-scheduler"], ["'abc'", "integer"]),
    (["--module", "my_module", "Dated", "--date", "2015-13-45", "--local-scheduler"], ["2015-13-45"]),
    (["--module", "my_module", "Loop", "--local-scheduler"], ["dependency cycle", "Loop()"]),
    (["--module", "my_module", "MyStep", "--x", "1", "--workers", "many", "--local-scheduler"], ["--workers"]),
])
def test_bad_input_gets_one_clear_line(project, args, fragments):
    assert_one_line_error(trunq(project, *args), *fragments)


def test_requires_returning_a_target_is_reported(project):
    result = trunq(project, "--module", "my_module", "ReturnsTarget", "--local-scheduler")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "not a Step" in result.stderr and "ExternalStep" in result.stderr
    assert "failed scheduling" in result.stdout


def test_malformed_config_file(project):
    (project / "trunq.toml").write_text("[core\nworkers = 2\n")
    assert_one_line_error(trunq(project, "--module", "my_module", "MyStep", "--x", "1", "--local-scheduler"),
                          "malformed config file", "trunq.toml")
    (project / "trunq.toml").unlink()
    (project / "bad.cfg").write_text("no section header\n")
    assert_one_line_error(trunq(project, "--module", "my_module", "MyStep", "--x", "1", "--local-scheduler",
                                env={"TRUNQ_CONFIG_PATH": str(project / "bad.cfg")}), "malformed config file")


def test_config_sections_supply_parameters(project):
    (project / "trunq.cfg").write_text("[MyStep]\nx = 10\n")
    result = trunq(project, "--module", "my_module", "MyStep", "--local-scheduler")
    assert result.returncode == 0 and result.stdout.splitlines()[0] == "55"
    (project / "trunq.cfg").unlink()
    (project / "trunq.toml").write_text("[MyStep]\nx = 20\n")
    result = trunq(project, "--module", "my_module", "MyStep", "--local-scheduler",
                   env={"TRUNQ__MyStep__y": "1"})
    assert result.stdout.splitlines()[0] == "21"


def test_help_lists_step_parameters(project):
    result = trunq(project, "build", "MyStep", "--module", "my_module", "--help")
    assert result.returncode == 0
    assert "--x, --MyStep-x INT (required)" in result.stdout
    assert "--my-parameter, --MyStep-my-parameter INT (default: 0)" in result.stdout
    general = trunq(project, "--help")
    assert general.returncode == 0 and "build" in general.stdout and "worker" in general.stdout


def test_no_redis_without_local_scheduler_is_one_line(project):
    result = trunq(project, "--module", "my_module", "MyStep", "--x", "1", "--redis-url", "redis://127.0.0.1:1/0")
    assert_one_line_error(result, "Redis")


def test_lock_refuses_a_second_identical_build(project):
    slow = project / "slow_module.py"
    slow.write_text(textwrap.dedent('''
        import os, time, trunq
        class Slow(trunq.Step):
            def run(self):
                open("started", "w").close()  # the test waits for this, not for a fixed time
                deadline = time.monotonic() + 60
                while not os.path.exists("stop") and time.monotonic() < deadline:
                    time.sleep(0.05)
    '''))
    first = subprocess.Popen(["trunq", "--module", "slow_module", "Slow", "--local-scheduler"], cwd=project,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (project / "started").exists(), what="the first build to run its step")
        second = trunq(project, "--module", "slow_module", "Slow", "--local-scheduler")
        assert second.returncode == 6
        assert "already running" in second.stderr
    finally:
        (project / "stop").touch()
        first.kill()
        first.communicate()


def test_the_summary_is_printed_once_whatever_the_log_level(project):
    for level in ("DEBUG", "INFO", "WARNING"):
        result = trunq(project, "--module", "my_module", "MyStep", "--x", "1", "--local-scheduler",
                       "--log-level", level)
        assert result.returncode == 0, result.stderr
        assert (result.stdout + result.stderr).count("===== Trunq Execution Summary =====") == 2, level
        assert "===== Trunq Execution Summary =====" in result.stdout


def test_core_log_level_from_the_config_file_applies(project):
    (project / "trunq.toml").write_text('[core]\nlog_level = "INFO"\n')
    result = trunq(project, "--module", "my_module", "MyStep", "--x", "1", "--local-scheduler",
                   env={"TRUNQ_LOG_LEVEL": ""})
    assert result.returncode == 0, result.stderr
    for word in ("running", "done"):  # luigi's lines, one of each per step
        assert f" {word} " in result.stderr and "MyStep(x=1, y=45, my_parameter=0)" in result.stderr, result.stderr
    quiet = trunq(project, "--module", "my_module", "MyStep", "--x", "2", "--local-scheduler", "--log-level", "WARNING")
    assert "INFO: " not in quiet.stderr  # the command line wins
    left_alone = trunq(project, "--module", "my_module", "MyStep", "--x", "4", "--local-scheduler",
                       "--no-configure-logging", env={"TRUNQ_LOG_LEVEL": ""})
    assert left_alone.returncode == 0 and "INFO: " not in left_alone.stderr  # the program's logging: none here
    (project / "trunq.toml").write_text('[core]\nlog_level = "LOUD"\n')
    assert_one_line_error(trunq(project, "--module", "my_module", "MyStep", "--x", "3", "--local-scheduler",
                                env={"TRUNQ_LOG_LEVEL": ""}), "unknown log level 'LOUD'")


def test_build_from_python_shows_the_summary_on_stderr_as_luigi(project):
    script = textwrap.dedent('''
        import trunq, my_module
        trunq.build([my_module.MyStep(x=1)])
        trunq.build([my_module.MyStep(x=2)], log_level="WARNING")
    ''')
    result = subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(project)), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("===== Trunq Execution Summary =====") == 2  # the first build's only
    assert "MyStep(x=1, y=45, my_parameter=0)" in result.stderr and "x=2" not in result.stderr


def test_a_negative_worker_count_in_the_config_is_one_line(project):
    (project / "trunq.toml").write_text("[core]\nworkers = -3\n")
    assert_one_line_error(trunq(project, "--module", "my_module", "MyStep", "--x", "1", "--local-scheduler"),
                          "workers must be at least 1, got -3")
