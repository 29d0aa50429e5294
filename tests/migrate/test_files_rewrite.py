"""luigi.cfg -> trunq.toml, command lines, dependency lists."""

from __future__ import annotations

import tomllib

from trunq.migrate.config_rewrite import convert_cfg
from trunq.migrate.text_rewrite import rewrite_commands, rewrite_quoted_requirements, rewrite_requirements

CFG = """# top comment
[core]
workers: 2
log_level = INFO

[resources]
db=1

; a step's parameters
[my.ns.Family]
Count = 5
flag = True
multi = a
   b
"""


def test_cfg_to_toml_typed_engine_sections_string_parameters():
    name, text, issues = convert_cfg(CFG, "luigi.cfg")
    assert name == "trunq.toml"
    assert issues == []
    assert "# top comment" in text and "# a step's parameters" in text
    assert tomllib.loads(text) == {
        "core": {"workers": 2, "log_level": "INFO"},
        "resources": {"db": 1},
        "my.ns.Family": {"Count": "5", "flag": "True", "multi": "a\nb"},
    }


def test_migrated_toml_read_by_trunq_config(tmp_path):
    from trunq.config import load_config

    (tmp_path / "trunq.toml").write_text(convert_cfg(CFG, "luigi.cfg")[1])
    config = load_config(environ={}, cwd=str(tmp_path))
    assert config.getint("core", "workers") == 2
    assert config.getintdict("resources") == {"db": 1}
    assert config.get("my.ns.Family", "Count") == "5"


def test_interpolation_keeps_ini_and_reports():
    name, text, issues = convert_cfg("[core]\nlogging_conf_file = ${HOME}/log.cfg\n", "luigi.cfg")
    assert name == "trunq.cfg" and text.startswith("[core]")
    assert [str(i).split(":")[:2] for i in issues] == [["luigi.cfg", "2"]]
    assert "interpolation" in issues[0].why


def test_scheduler_host_reported():
    _, _, issues = convert_cfg("[core]\nscheduler_host = 10.0.0.1\n", "luigi.cfg")
    assert [str(i) for i in issues] == [
        "luigi.cfg:2: [core] scheduler_host: trunq has no HTTP scheduler; the cluster is Redis: set [core] redis_url"]


def test_shell_commands():
    text, issues = rewrite_commands(
        "export LUIGI_CONFIG_PATH=conf/luigi.cfg\n"
        "pip install luigi==3.0 requests\n"
        "cd /opt/luigi && luigi --module m T --local-scheduler\n"
        "python3 -m luigi --module m T\n"
        "/venv/bin/luigi T --module m\n"
        "0 3 * * * luigi --module x Y  # nightly\n",
        "run.sh", {"luigi.cfg": "trunq.toml"})
    assert text == ("export TRUNQ_CONFIG_PATH=conf/trunq.toml\n"
                    "pip install trunq requests\n"
                    "cd /opt/luigi && trunq --module m T --local-scheduler\n"
                    "python3 -m trunq --module m T\n"
                    "/venv/bin/trunq T --module m\n"
                    "0 3 * * * trunq --module x Y  # nightly\n")
    assert issues == []


def test_luigid_in_shell_and_container():
    text, issues = rewrite_commands("\tluigid --port 8082\n", "Makefile", {})
    assert text.splitlines()[1] == "\ttrunq server & celery -A trunq worker"
    assert text.splitlines()[0].startswith("\t# trunq migrate: luigid")
    assert [str(i) for i in issues] == ["Makefile:1: luigid options dropped (--port 8082): configure Redis "
                                        "([core] redis_url) and `trunq web` instead"]
    text, issues = rewrite_commands('CMD ["luigid"]\nRUN pip install luigi\n', "Dockerfile", {}, shell=False)
    assert text == 'CMD ["trunq", "server"]\nRUN pip install trunq\n'
    assert "celery -A trunq worker" in issues[0].why


def test_exec_form_and_yaml():
    text, _ = rewrite_commands('CMD ["luigi", "--module", "m", "T"]\n  command: luigi --module m T\n  - luigi>=2.8\n',
                               "docker-compose.yml", {}, shell=False)
    assert text == 'CMD ["trunq", "--module", "m", "T"]\n  command: trunq --module m T\n  - trunq\n'


def test_requirements_and_pyproject():
    assert rewrite_requirements("luigi==3.0\nLuigi[toml]>=3 ; python_version>'3'\nluigi-tools\n") == \
        "trunq\ntrunq\nluigi-tools\n"
    assert rewrite_quoted_requirements('deps = ["luigi>=3.0,<4", "x"]\nluigi = "^3"\n') == \
        'deps = ["trunq", "x"]\ntrunq = "*"\n'
