"""luigi's spellings of the engine's config options, on the command line and in config files.

luigi lets ``--worker-keep-alive`` or ``--retcode-task-failed 5`` override one config option.
trunq accepts the same spelling for ``[core]``, ``[worker]``, ``[scheduler]`` and ``[retcode]``.
In config files (luigi.cfg kept as ``trunq.cfg``, or named in ``TRUNQ_CONFIG_PATH``) luigi's old
spellings -- ``[core] worker-timeout``, ``[scheduler] retry-delay`` -- are moved to trunq's key with
one DeprecationWarning each. An option trunq does not read is named in one warning line, never
silently dropped.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from typing import Any

SECTIONS = ("core", "worker", "scheduler", "retcode")

# The options trunq reads (see the ``get_config()`` users); luigi has more.
SUPPORTED: dict[str, frozenset[str]] = {
    "core": frozenset({"workers", "local_scheduler", "lock_pid_dir", "redis_url", "lease_seconds",
                       "step_retention_seconds", "logging_conf_file", "log_level", "no_configure_logging", "parallel_scheduling",
                       "redis_grace_seconds"}),
    "worker": frozenset({"timeout", "force_multiprocessing", "keep_alive", "retry_external_tasks"}),
    "scheduler": frozenset({"retry_delay", "retry_count", "disable_window", "disable_failures",
                            "disable_persist"}),
    "retcode": frozenset({"task_failed", "scheduling_error", "missing_data", "unhandled_exception",
                          "not_run", "already_running"}),
}

# Options that take no value on luigi's command line.
_FLAGS = frozenset({("core", "local_scheduler"), ("core", "no_lock"), ("core", "take_lock"),
                    ("worker", "keep_alive"), ("worker", "retry_external_tasks"),
                    ("worker", "force_multiprocessing"), ("core", "parallel_scheduling"),
                    ("core", "no_configure_logging"), ("core", "assistant"),
                    *(("worker", key) for key in ("count_uniques", "count_last_scheduled", "send_failure_email",
                                                  "no_install_shutdown_handler", "check_unfulfilled_deps",
                                                  "check_complete_on_run", "cache_task_completion")),
                    *(("scheduler", key) for key in ("batch_emails", "record_task_history", "prune_on_get_work",
                                                     "pause_enabled", "send_messages"))})


# luigi's ``[core]`` options spelled without the section (``--logging-conf-file``).
_BARE_CORE = frozenset({"logging_conf_file", "scheduler_host", "scheduler_port", "scheduler_url",
                        "no_configure_logging", "assistant", "rpc_connect_timeout", "rpc_retry_attempts",
                        "rpc_retry_wait"})


# luigi's old ``[core]`` spellings of options that moved (its ``config_path``es), and the
# ``default-scheduler-*`` names of its scheduler address.
RENAMED: dict[tuple[str, str], tuple[str, str]] = {
    ("core", "worker_timeout"): ("worker", "timeout"),
    ("core", "worker_keep_alive"): ("worker", "keep_alive"),
    ("core", "retry_external_tasks"): ("worker", "retry_external_tasks"),
    ("core", "worker_ping_interval"): ("worker", "ping_interval"),
    ("core", "worker_count_uniques"): ("worker", "count_uniques"),
    ("core", "worker_wait_interval"): ("worker", "wait_interval"),
    ("core", "worker_max_reschedules"): ("worker", "max_reschedules"),
    ("core", "worker_task_limit"): ("worker", "task_limit"),
    ("core", "default_scheduler_host"): ("core", "scheduler_host"),
    ("core", "default_scheduler_port"): ("core", "scheduler_port"),
    ("core", "default_scheduler_url"): ("core", "scheduler_url"),
}
_HINTS = {key: "trunq's cluster is a Redis: set [core] redis_url"
          for key in ("scheduler_host", "scheduler_port", "scheduler_url")}  # by trunq's key
_warned: set[tuple[str, ...]] = set()


def translate(section: str, key: str) -> tuple[str, str]:
    """trunq's (section, key) for luigi's spelling of an engine option."""
    normal = key.replace("-", "_")
    return RENAMED.get((section, normal), (section, normal))


def translate_sections(sections: Mapping[str, Mapping[str, Any]], path: str) -> dict[str, dict[str, Any]]:
    """A config file's sections with luigi's engine spellings moved to trunq's keys.

    Each old spelling gets one DeprecationWarning naming trunq's; each option trunq does not
    read one warning line. Other sections (step parameters) are returned unchanged.
    """
    result: dict[str, dict[str, Any]] = {name: dict(options) for name, options in sections.items()
                                         if name not in SECTIONS}
    for section in SECTIONS:
        for key, value in sections.get(section, {}).items():
            new_section, new_key = translate(section, key)
            if not is_supported(new_section, new_key):
                warn_unsupported(section, key, _HINTS.get(new_key, ""))
            elif (new_section, new_key) != (section, key):
                _deprecated(section, key, new_section, new_key, path)
            kept = result.setdefault(new_section, {})
            if new_key not in kept or (new_section, new_key) == (section, key):
                kept[new_key] = value  # trunq's own spelling wins over luigi's in the same file
    return result


def _deprecated(section: str, key: str, new_section: str, new_key: str, path: str) -> None:
    if (section, key, "deprecated") in _warned:
        return
    _warned.add((section, key, "deprecated"))
    warnings.warn(f"[{section}] {key} in {path} is luigi's spelling; use [{new_section}] {new_key} in trunq",
                  DeprecationWarning, stacklevel=4)


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


def warn_unsupported(section: str, key: str, hint: str = "") -> None:
    """One line per option and process: ``[worker] foo is not supported by trunq``."""
    if (section, key) in _warned:
        return
    _warned.add((section, key))
    hint = f"; {hint}" if hint else ""
    print(f"trunq: warning: [{section}] {key} is not supported by trunq (ignored){hint}", file=sys.stderr)


def supported_only(overrides: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Drop (with one warning line each) the options trunq does not read."""
    kept: dict[str, dict[str, Any]] = {}
    for given_section, options in overrides.items():
        for given_key, value in options.items():
            section, key = translate(given_section, given_key)
            if is_supported(section, key):
                kept.setdefault(section, {})[key] = value
            else:
                warn_unsupported(given_section, given_key, _HINTS.get(key, ""))
    return kept
