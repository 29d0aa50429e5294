"""One status vocabulary: the enum, legacy spellings, and the Lua scripts' constants."""

import subprocess
from pathlib import Path

import trunq
from trunq.core.status import Status, lua_constants, spellings
from trunq.scheduler.redis import _script_source

ROOT = Path(trunq.__file__).parent


def test_status_is_exported_and_a_string():
    assert trunq.Status is Status
    assert Status.DONE == "DONE" and str(Status.FAILED) == "FAILED"


def test_parse_maps_legacy_history_spellings():
    assert Status.parse("SUCCESS") is Status.DONE
    assert Status.parse("completed") is Status.DONE
    assert Status.parse("FAILURE") is Status.FAILED
    assert Status.parse("ERROR") is Status.FAILED
    assert Status.parse("nonsense") is Status.UNKNOWN
    assert spellings(Status.FAILED) == {"FAILED", "FAILURE", "ERROR"}


def test_lua_scripts_get_constants_from_the_enum():
    source = _script_source("register")
    assert source.startswith(lua_constants())
    assert 'local S_DISABLED = "DISABLED"' in source
    for script in (ROOT / "scheduler" / "lua").glob("*.lua"):
        code = [line for line in script.read_text().splitlines() if not line.lstrip().startswith("--")]
        for status in ("PENDING", "RUNNING", "DONE", "FAILED", "DISABLED"):
            assert f'"{status}"' not in "\n".join(code), (script.name, status)


def test_no_bare_status_literals_in_python():
    found = subprocess.run(
        ["grep", "-rn", '"DONE"\\|"FAILED"\\|"PENDING"\\|"DISABLED"', str(ROOT), "--include=*.py"],
        capture_output=True, text=True).stdout.splitlines()
    assert [line for line in found if "core/status.py" not in line] == []
