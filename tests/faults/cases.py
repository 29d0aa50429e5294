"""The fault catalogue's data: one bad input per line.

Each case: (id, argv after ``trunq``, files to prepare {relative path: text}, environment,
expected exit status, a substring the error must contain). ``argv`` starting with
"python" runs ``python -m ...`` instead of the ``trunq`` command.
"""

from __future__ import annotations

STEPS = '''
import trunq

class Hello(trunq.Step):
    n = trunq.IntParameter(default=1)
    day = trunq.DateParameter(default=None)
    def output(self):
        return trunq.LocalTarget("hello.out")
    def run(self):
        open("hello.out", "w").write("hi")

class Greedy(trunq.Step):
    resources = {"gpu": 2}
    def run(self):
        pass

class UsesDb(trunq.Step):
    resources = {"db": 1}
    def run(self):
        pass
'''
TWIN = "import trunq\n\nclass Hello(trunq.Step):\n    def run(self):\n        pass\n"
SYNTAX = "import trunq\ndef broken(:\n    pass\n"
RAISES = "import trunq\nraise RuntimeError('boom while importing')\n"
MISSING_DEP = "import trunq\nimport no_such_dependency_xyz\n"

M = {"steps.py": STEPS}
B = ["build", "--module", "steps", "--local-scheduler", "--no-lock"]


def cfg(text: str) -> dict[str, str]:
    return {**M, "trunq.cfg": text}


def toml(text: str) -> dict[str, str]:
    return {**M, "trunq.toml": text}


CASES: list[tuple[str, list[str], dict[str, str], dict[str, str], int, str]] = [
    # ---- build: arguments ------------------------------------------------------------------
    ("build-no-family", ["build", "--module", "steps"], M, {}, 2, "no step family"),
    ("build-unknown-family", [*B, "Nope"], M, {}, 2, "unknown step family 'Nope'"),
    ("build-close-family", [*B, "Helo"], M, {}, 2, "did you mean 'Hello'"),
    ("build-unknown-param", [*B, "Hello", "--bogus", "1"], M, {}, 2, "--bogus"),
    ("build-int-param", [*B, "Hello", "--n", "abc"], M, {}, 2, "abc"),
    ("build-int-param-float", [*B, "Hello", "--n", "1.5"], M, {}, 2, "1.5"),
    ("build-date-param", [*B, "Hello", "--day", "2024-13-45"], M, {}, 2, "2024-13-45"),
    ("build-date-param-word", [*B, "Hello", "--day", "yesterday"], M, {}, 2, "yesterday"),
    ("build-two-families", [*B, "Hello", "Greedy"], M, {}, 2, "unexpected argument"),
    ("build-workers-negative", [*B, "Hello", "--workers", "-3"], M, {}, 2, "--workers must be at least 1"),
    ("build-workers-zero", [*B, "Hello", "--workers", "0"], M, {}, 2, "--workers must be at least 1"),
    ("build-workers-word", [*B, "Hello", "--workers", "many"], M, {}, 2, "--workers needs a whole number"),
    ("build-workers-float", [*B, "Hello", "--workers", "2.5"], M, {}, 2, "--workers needs a whole number"),
    ("build-worker-timeout", [*B, "Hello", "--worker-timeout", "soon"], M, {}, 2, "--worker-timeout"),
    ("build-module-missing", ["build", "--module", "no_such_mod", "X"], {}, {}, 2, "cannot import module 'no_such_mod'"),
    ("build-module-syntax", ["build", "--module", "bad", "X"], {"bad.py": SYNTAX}, {}, 2, "bad.py\", line 2"),
    ("build-module-raises", ["build", "--module", "bad", "X"], {"bad.py": RAISES}, {}, 2, "boom while importing"),
    ("build-module-dep", ["build", "--module", "bad", "X"], {"bad.py": MISSING_DEP}, {}, 2, "no_such_dependency_xyz"),
    ("classic-module-syntax", ["--module", "bad", "X"], {"bad.py": SYNTAX}, {}, 2, "SyntaxError"),
    ("build-ambiguous", [*B, "--module", "twin", "Hello"], {**M, "twin.py": TWIN}, {}, 2, "ambiguous"),
    ("classic-ambiguous", ["--module", "steps", "--module", "twin", "Hello", "--local-scheduler"],
     {**M, "twin.py": TWIN}, {}, 2, "twin:Hello"),
    # ---- build: resources -------------------------------------------------------------------
    ("res-undeclared", [*B, "Greedy"], M, {}, 2, "asks 2, capacity is 1"),
    ("res-zero", [*B, "UsesDb"], cfg("[resources]\ndb = 0\n"), {}, 2, "asks 1, capacity is 0"),
    ("res-too-small", [*B, "Greedy"], cfg("[resources]\ngpu = 1\n"), {}, 2, "resource 'gpu'"),
    ("res-float", [*B, "UsesDb"], cfg("[resources]\ndb = 1.5\n"), {}, 2, "[resources] db must be an integer"),
    ("res-word", [*B, "UsesDb"], cfg("[resources]\ndb = two\n"), {}, 2, "[resources] db must be an integer"),
    ("res-negative", [*B, "UsesDb"], cfg("[resources]\ndb = -1\n"), {}, 2, "[resources] db must not be negative"),
    ("res-toml-float", [*B, "UsesDb"], toml("[resources]\ndb = 1.5\n"), {}, 2, "[resources] db must be an integer"),
    ("res-toml-string", [*B, "UsesDb"], toml('[resources]\ndb = "two"\n'), {}, 2, "[resources] db"),
    ("res-toml-bool", [*B, "UsesDb"], toml("[resources]\ndb = true\n"), {}, 2, "[resources] db"),
    ("res-env-word", [*B, "UsesDb"], M, {"TRUNQ__resources__db": "lots"}, 2, "[resources] db"),
    ("res-env-float", [*B, "UsesDb"], M, {"TRUNQ__resources__db": "0.5"}, 2, "[resources] db"),
    # ---- typo'd sub-commands -------------------------------------------------------------
    ("typo-buidl", ["buidl", "P"], {}, {}, 2, "no command 'buidl'; did you mean build?"),
    ("typo-biuld", ["biuld"], {}, {}, 2, "did you mean build?"),
    ("typo-wokrer", ["wokrer"], {}, {}, 2, "did you mean worker?"),
    ("typo-runz", ["runz"], {}, {}, 2, "did you mean runs?"),
    ("typo-lgos", ["lgos", "x"], {}, {}, 2, "did you mean logs?"),
    ("typo-canel", ["canel", "x"], {}, {}, 2, "did you mean cancel?"),
    ("typo-tasklst", ["tasklst", "status", "d"], {}, {}, 2, "did you mean tasklist?"),
    ("typo-shedule", ["shedule", "run"], {}, {}, 2, "did you mean schedule?"),
    ("typo-mesage", ["mesage", "x"], {}, {}, 2, "did you mean message?"),
    ("typo-servr", ["servr"], {}, {}, 2, "did you mean server?"),
    ("typo-wbe", ["wbe"], {}, {}, 2, "did you mean web?"),
    ("top-bad-option", ["--bogus-flag"], {}, {}, 2, "--bogus-flag"),
    # ---- configuration files -------------------------------------------------------------
    ("cfg-no-section", [*B, "Hello"], cfg("just = text\n"), {}, 2, "trunq.cfg"),
    ("cfg-broken-header", [*B, "Hello"], cfg("[core\nx = 1\n"), {}, 2, "trunq.cfg"),
    ("cfg-duplicate-section", [*B, "Hello"], cfg("[core]\na = 1\n[core]\nb = 2\n"), {}, 2, "trunq.cfg"),
    ("toml-syntax", [*B, "Hello"], toml("[core\n"), {}, 2, "trunq.toml"),
    ("toml-bad-value", [*B, "Hello"], toml("[core]\nx = = 1\n"), {}, 2, "trunq.toml"),
    ("toml-not-utf8", [*B, "Hello"], toml("[core]\nx = '\udcff'\n"), {}, 2, "trunq.toml"),
    ("config-path-missing", [*B, "Hello"], M, {"TRUNQ_CONFIG_PATH": "nowhere.cfg"}, 2, "nowhere.cfg"),
    ("config-path-broken", [*B, "Hello"], {**M, "x.cfg": "[a\n"}, {"TRUNQ_CONFIG_PATH": "x.cfg"}, 2, "x.cfg"),
    ("local-scheduler-word", ["build", "--module", "steps", "Hello", "--no-lock"],
     cfg("[core]\nlocal_scheduler = maybe\n"), {}, 2, "local_scheduler"),
    # ---- schedule ------------------------------------------------------------------------
    ("sched-grace-word", ["schedule", "list"], {"trunq.cfg": "[schedule]\ngrace_seconds = soon\n"}, {}, 2,
     "[schedule] grace_seconds must be a number"),
    ("sched-grace-negative", ["schedule", "list"], {"trunq.cfg": "[schedule]\ngrace_seconds = -5\n"}, {}, 2,
     "grace_seconds"),
    ("sched-catchup-word", ["schedule", "list"], {"trunq.cfg": "[schedule]\nmax_catchup = all\n"}, {}, 2,
     "[schedule] max_catchup must be a whole number"),
    ("sched-run-grace", ["schedule", "run"], {"trunq.cfg": "[schedule]\ngrace_seconds = soon\n"}, {}, 2,
     "grace_seconds"),
    ("sched-bad-cron", ["schedule", "list"],
     {"trunq.cfg": "[schedule.nightly]\ncron = 99 * * * *\ncommand = Hello\n"}, {}, 2, "nightly"),
    ("sched-cron-words", ["schedule", "list"],
     {"trunq.cfg": "[schedule.nightly]\ncron = every day\ncommand = Hello\n"}, {}, 2, "nightly"),
    ("sched-bad-catchup", ["schedule", "list"],
     {"trunq.cfg": "[schedule.nightly]\ncron = 0 1 * * *\ncommand = Hello\ncatchup = sometimes\n"}, {}, 2,
     "catchup must be one of"),
    ("sched-local-word", ["schedule", "list"],
     {"trunq.cfg": "[schedule.nightly]\ncron = 0 1 * * *\ncommand = Hello\nlocal_scheduler = perhaps\n"}, {}, 2,
     "local_scheduler"),
    ("sched-bad-option", ["schedule", "run", "--bogus"], {}, {}, 2, "--bogus"),
    ("sched-unknown-sub", ["schedule", "bogus"], {}, {}, 2, "bogus"),
    # ---- runs, logs, cancel --------------------------------------------------------------
    ("runs-dir-is-file", ["runs"], {"afile": "x"}, {"TRUNQ_RUNS_DIR": "afile"}, 2, "is not a directory"),
    ("logs-dir-is-file", ["logs", "r1"], {"afile": "x"}, {"TRUNQ_RUNS_DIR": "afile"}, 2, "is not a directory"),
    ("cancel-dir-is-file", ["cancel", "r1"], {"afile": "x"}, {"TRUNQ_RUNS_DIR": "afile"}, 2, "is not a directory"),
    ("build-runs-dir-file", [*B, "Hello"], {**M, "afile": "x"}, {"TRUNQ_RUNS_DIR": "afile"}, 2,
     "is not a directory"),
    ("runs-bad-option", ["runs", "--bogus"], {}, {}, 2, "--bogus"),
    ("logs-no-run", ["logs", "no-such-run"], {}, {}, 2, "no run named 'no-such-run'"),
    ("logs-missing-arg", ["logs"], {}, {}, 2, "Missing argument"),
    ("cancel-missing-arg", ["cancel"], {}, {}, 2, "Missing argument"),
    ("cancel-no-run", ["cancel", "no-such-run"], {}, {}, 2, "no-such-run"),
    ("runs-bad-status", ["runs", "--status", "sleepy"], {}, {}, 2, "sleepy"),
    # ---- tasklist ------------------------------------------------------------------------
    ("tl-status-missing-dir", ["tasklist", "status", "nowhere"], {}, {}, 2, "nowhere"),
    ("tl-run-missing-dir", ["tasklist", "run", "nowhere"], {}, {}, 2, "nowhere"),
    ("tl-run-n-zero", ["tasklist", "run", "-n", "0", "."], {}, {}, 2, "--nprocesses"),
    ("tl-run-n-word", ["tasklist", "run", "-n", "few", "."], {}, {}, 2, "few"),
    ("tl-run-autokill-zero", ["tasklist", "run", "--autokill", "0", "."], {}, {}, 2, "--autokill"),
    ("tl-run-autokill-word", ["tasklist", "run", "--autokill", "soon", "."], {}, {}, 2, "soon"),
    ("tl-run-on-file", ["tasklist", "run", "afile"], {"afile": "x"}, {}, 2, "afile"),
    ("tl-unknown-sub", ["tasklist", "bogus"], {}, {}, 2, "bogus"),
    ("tl-child-truncated", ["python", "-m", "trunq.tasklist", "t.pkl", "out.pkl"], {"t.pkl": "\x80\x04\x95"}, {}, 1,
     "cannot load t.pkl"),
    ("tl-child-garbage", ["python", "-m", "trunq.tasklist", "t.pkl", "out.pkl"], {"t.pkl": "not a pickle"}, {}, 1,
     "cannot load t.pkl"),
    ("tl-child-empty", ["python", "-m", "trunq.tasklist", "t.pkl", "out.pkl"], {"t.pkl": ""}, {}, 1,
     "cannot load t.pkl"),
    ("tl-child-missing", ["python", "-m", "trunq.tasklist", "none.pkl", "out.pkl"], {}, {}, 2, "task file not found"),
    ("tl-child-no-args", ["python", "-m", "trunq.tasklist"], {}, {}, 2, "infile"),
    # ---- web, server, worker, message ----------------------------------------------------
    ("web-port-word", ["web", "--port", "notaport"], {}, {}, 2, "notaport"),
    ("web-port-range", ["web", "--port", "70000"], {}, {}, 2, "70000"),
    ("web-bad-option", ["web", "--bogus"], {}, {}, 2, "--bogus"),
    ("server-bad-option", ["server", "--bogus"], {}, {}, 2, "--bogus"),
    ("server-port-word", ["server", "--port", "x"], {}, {}, 2, "'x'"),
    ("message-missing-arg", ["message"], {}, {}, 2, "Missing argument"),
    ("message-no-redis", ["message", "Step_x", "hello"], {}, {"TRUNQ_REDIS_URL": "redis://127.0.0.1:1/0"}, 2,
     "cannot reach Redis"),
    ("message-bad-redis-url", ["message", "Step_x", "hello"], {}, {"TRUNQ_REDIS_URL": "nonsense://"}, 2,
     "invalid Redis URL"),
    ("build-no-redis", ["build", "--module", "steps", "Hello", "--no-lock"], M,
     {"TRUNQ_REDIS_URL": "redis://127.0.0.1:1/0"}, 2, "cannot reach Redis"),
    ("build-bad-redis-url", ["build", "--module", "steps", "Hello", "--no-lock"], M,
     {"TRUNQ_REDIS_URL": "nonsense://"}, 2, "nonsense"),
    ("worker-bad-option", ["worker", "--bogus-opt"], {}, {}, 2, "--bogus-opt"),
    ("build-param-no-value", [*B, "Hello", "--n"], M, {}, 2, "--n"),
    ("build-log-level", [*B, "Hello", "--log-level", "LOUD"], M, {}, 2, "LOUD"),
    ("classic-close-family", ["--module", "steps", "Helo", "--local-scheduler"], M, {}, 2, "did you mean 'Hello'"),
    ("env-local-scheduler-word", ["build", "--module", "steps", "Hello", "--no-lock"], M,
     {"TRUNQ__core__local_scheduler": "maybe"}, 2, "local_scheduler"),
    ("tl-run-n-negative", ["tasklist", "run", "-n", "-1", "."], {}, {}, 2, "--nprocesses"),
    ("tl-status-on-file", ["tasklist", "status", "afile"], {"afile": "x"}, {}, 2, "not a TaskList directory"),
    ("worker-concurrency-word", ["worker", "--concurrency", "lots"], {}, {}, 2, "lots"),
    # ---- cluster builds: builds, attach, cancel-build, reenable ---------------------------
    ("builds-limit-zero", ["builds", "--limit", "0"], {}, {}, 2, "--limit"),
    ("builds-limit-word", ["builds", "--limit", "x"], {}, {}, 2, "'x'"),
    ("builds-no-redis", ["builds"], {}, {"TRUNQ_REDIS_URL": "redis://127.0.0.1:1/0"}, 2, "cannot reach Redis"),
    ("builds-show-missing-arg", ["builds", "show"], {}, {}, 2, "Missing argument 'BUILD_ID'"),
    ("builds-show-no-redis", ["builds", "show", "b1"], {}, {"TRUNQ_REDIS_URL": "redis://127.0.0.1:1/0"}, 2, "cannot reach Redis"),
    ("attach-missing-arg", ["attach"], {}, {}, 2, "Missing argument 'BUILD_ID'"),
    ("attach-timeout-word", ["attach", "b1", "--timeout", "soon"], {}, {}, 2, "'soon'"),
    ("attach-no-redis", ["attach", "b1"], {}, {"TRUNQ_REDIS_URL": "redis://127.0.0.1:1/0"}, 2, "cannot reach Redis"),
    ("cancel-build-missing-arg", ["cancel-build"], {}, {}, 2, "Missing argument 'BUILD_ID'"),
    ("cancel-build-no-redis", ["cancel-build", "b1"], {}, {"TRUNQ_REDIS_URL": "redis://127.0.0.1:1/0"}, 2, "cannot reach Redis"),
    ("reenable-nothing-named", ["reenable"], {}, {}, 2, "name a STEP_ID or --family"),
    ("reenable-no-redis", ["reenable", "Hello"], {}, {"TRUNQ_REDIS_URL": "redis://127.0.0.1:1/0"}, 2, "cannot reach Redis"),
    # ---- migrate, schedule, tasklist retry, message, runs, server -------------------------
    ("migrate-missing-arg", ["migrate"], {}, {}, 2, "Missing argument 'PATH'"),
    ("migrate-no-path", ["migrate", "nowhere"], {}, {}, 2, "'nowhere' does not exist"),
    ("migrate-bad-option", ["migrate", "afile", "--bogus"], {"afile": "x"}, {}, 2, "--bogus"),
    ("sched-no-subcommand", ["schedule"], {}, {}, 2, "list"),
    ("sched-count-word", ["schedule", "list", "--count", "x"], {}, {}, 2, "--count"),
    ("sched-poll-word", ["schedule", "run", "--poll", "x"], {}, {}, 2, "--poll"),
    ("sched-nothing-configured", ["schedule", "list"], {}, {}, 2, "no schedules configured"),
    ("tl-retry-missing-dir", ["tasklist", "retry", "nowhere"], {}, {}, 2, "no such TaskList directory"),
    ("tl-retry-missing-arg", ["tasklist", "retry"], {}, {}, 2, "Missing argument 'DIRECTORY'"),
    ("tl-status-missing-arg", ["tasklist", "status"], {}, {}, 2, "Missing argument 'DIRECTORY'"),
    ("message-missing-text", ["message", "Step_x"], {}, {}, 2, "Missing argument 'TEXT'"),
    ("message-timeout-negative", ["message", "Step_x", "hi", "--timeout", "-1"], {}, {}, 2, "--timeout"),
    ("web-host-no-value", ["web", "--host"], {}, {}, 2, "'--host' requires an argument"),
    ("runs-limit-word", ["runs", "--limit", "x"], {}, {}, 2, "--limit"),
    ("server-port-zero", ["server", "--port", "0"], {}, {}, 2, "--port"),
    ("server-dir-is-file", ["server", "--dir", "afile"], {"afile": "x"}, {}, 2, "is a file"),
    # ---- range tools -----------------------------------------------------------------------
    ("range-bad-start", [*B, "RangeDaily", "--of", "Hello", "--start", "2024-99-01"], M, {}, 2,
     "'2024-99-01' is not a valid date"),
    ("range-unknown-of", [*B, "RangeDaily", "--of", "Nope", "--start", "2024-01-01"], M, {}, 2,
     "unknown step family 'Nope'"),
    ("range-start-after-stop", [*B, "RangeDaily", "--of", "Hello", "--start", "2024-01-05", "--stop", "2024-01-01"],
     M, {}, 2, "is after --stop"),
    ("range-hourly-date-only", [*B, "RangeHourly", "--of", "Hello", "--start", "2024-01-01"], M, {}, 2,
     "not a valid date and time"),
]
