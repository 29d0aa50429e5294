"""luigi's ``--Section-key value`` command-line form for the sections trunq reads.

luigi lets ``--worker-keep-alive`` or ``--retcode-task-failed 5`` override one config option.
trunq accepts the same spelling for ``[core]``, ``[worker]``, ``[scheduler]`` and ``[retcode]``;
an option trunq does not read is named in one warning line, never silently dropped.
"""

from __future__ import annotations

import sys
from typing import Any

SECTIONS = ("core", "worker", "scheduler", "retcode")

# The options trunq reads (see the ``get_config()`` users); luigi has more.
SUPPORTED: dict[str, frozenset[str]] = {
    "core": frozenset({"workers", "local_scheduler", "lock_pid_dir", "redis_url", "lease_seconds",
                       "logging_conf_file", "log_level"}),
    "worker": frozenset({"timeout", "force_multiprocessing"}),
    "scheduler": frozenset({"retry_delay", "retry_count", "disable_window", "disable_failures",
                            "disable_persist"}),
    "retcode": frozenset({"task_failed", "scheduling_error", "missing_data", "unhandled_exception",
                          "not_run", "already_running"}),
}

# Options that take no value on luigi's command line.
_FLAGS = frozenset({("core", "local_scheduler"), ("core", "no_lock"), ("core", "take_lock"),
                    ("worker", "keep_alive"), ("worker", "retry_external_tasks"),
                    ("worker", "force_multiprocessing"), ("core", "parallel_scheduling"),
                    ("core", "no_configure_logging"), ("core", "assistant")})


# luigi's ``[core]`` options spelled without the section (``--logging-conf-file``).
_BARE_CORE = frozenset({"logging_conf_file", "scheduler_host", "scheduler_port", "scheduler_url",
                        "no_configure_logging", "assistant", "rpc_connect_timeout", "rpc_retry_attempts",
                        "rpc_retry_wait"})


def section_option(name: str) -> tuple[str, str] | None:
    """``--worker-keep-alive`` -> ("worker", "keep_alive"); None for anything else."""
    bare = name[2:] if name.startswith("--") else name
    if bare.replace("-", "_") in _BARE_CORE:
        return "core", bare.replace("-", "_")
    for section in SECTIONS:
        if bare.startswith(section + "-") and len(bare) > len(section) + 1:
            return section, bare[len(section) + 1:].replace("-", "_")
    return None


def is_flag(section: str, key: str) -> bool:
    return (section, key) in _FLAGS


def is_supported(section: str, key: str) -> bool:
    return key in SUPPORTED.get(section, frozenset())


def warn_unsupported(section: str, key: str) -> None:
    print(f"trunq: warning: [{section}] {key} is not supported by trunq (ignored)", file=sys.stderr)


def supported_only(overrides: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Drop (with one warning line each) the options trunq does not read."""
    kept: dict[str, dict[str, Any]] = {}
    for section, options in overrides.items():
        for key, value in options.items():
            if is_supported(section, key):
                kept.setdefault(section, {})[key] = value
            else:
                warn_unsupported(section, key)
    return kept
