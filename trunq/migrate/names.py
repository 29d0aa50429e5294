"""The luigi -> trunq name table, and the lookup of a dotted luigi name.

``resolve("luigi.contrib.s3.S3Target")`` gives ``Mapped("trunq.RemoteTarget")``; a name with no
trunq equivalent gives ``Unsupported(why)``; a name that is not luigi's gives ``None``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

# Names directly under ``luigi`` whose trunq name differs.
TOP_RENAMES = {
    "Task": "Step",
    "WrapperTask": "WrapperStep",
    "ExternalTask": "ExternalStep",
    "TaskParameter": "StepParameter",
    "LuigiStatusCode": "TrunqStatusCode",
}

# luigi module -> trunq module whose members keep their names (TaskParameter aside).
MODULES = {
    "luigi.util": "trunq.util",
    "luigi.format": "trunq.format",
    "luigi.mock": "trunq.mock",
    "luigi.tools.range": "trunq.tools.range",
    "luigi.date_interval": "trunq.date_interval",
    "luigi.parameter": "trunq.parameter",
}

# Exact dotted names -> trunq dotted names (checked before the module table).
EXACT = {
    "luigi.task.Task": "trunq.Step",
    "luigi.task.WrapperTask": "trunq.WrapperStep",
    "luigi.task.ExternalTask": "trunq.ExternalStep",
    "luigi.task.Config": "trunq.Config",
    "luigi.task.namespace": "trunq.namespace",
    "luigi.task.auto_namespace": "trunq.auto_namespace",
    "luigi.task.DynamicRequirements": "trunq.DynamicRequirements",
    "luigi.task.externalize": "trunq.core.step.externalize",
    "luigi.task.flatten": "trunq.flatten",
    "luigi.task.getpaths": "trunq.getpaths",
    "luigi.task.flatten_output": "trunq.flatten_output",
    "luigi.task.MixinNaiveBulkComplete": "trunq.MixinNaiveBulkComplete",
    "luigi.target.Target": "trunq.Target",
    "luigi.target.FileSystemTarget": "trunq.FileSystemTarget",
    "luigi.local_target.LocalTarget": "trunq.LocalTarget",
    "luigi.event.Event": "trunq.Event",
    "luigi.interface.build": "trunq.build",
    "luigi.interface.run": "trunq.run",
    "luigi.execution_summary.LuigiStatusCode": "trunq.TrunqStatusCode",
    "luigi.execution_summary.LuigiRunResult": "trunq.TrunqRunResult",
    "luigi.parameter.TaskParameter": "trunq.parameter.StepParameter",
    "luigi.contrib.s3.S3Target": "trunq.RemoteTarget",
    "luigi.contrib.gcs.GCSTarget": "trunq.RemoteTarget",
    "luigi.contrib.hdfs.HdfsTarget": "trunq.RemoteTarget",
    "luigi.contrib.hdfs.target.HdfsTarget": "trunq.RemoteTarget",
    "luigi.configuration.get_config": "trunq.config.get_config",
    "luigi.contrib.s3": "trunq",
    "luigi.contrib.gcs": "trunq",
    "luigi.contrib.hdfs": "trunq",
    "luigi.contrib.hdfs.target": "trunq",
}

# luigi modules that map as a whole module, while only some of their members do.
MODULE_ONLY = {"luigi.configuration": "trunq.config"}

# The remote targets: luigi class -> URL scheme its path gets.
REMOTE_TARGETS = {
    "luigi.contrib.s3.S3Target": "s3",
    "luigi.contrib.gcs.GCSTarget": "gs",
    "luigi.contrib.hdfs.HdfsTarget": "hdfs",
    "luigi.contrib.hdfs.target.HdfsTarget": "hdfs",
}

# Top-level luigi names that keep their name in trunq.
_SAME = {
    "Config", "namespace", "auto_namespace", "DynamicRequirements", "Target", "LocalTarget",
    "FileSystemTarget", "Event", "build", "run", "ParameterVisibility",
}

_WHY = {
    "luigi.contrib": "luigi.contrib is not part of trunq; port this integration by hand",
    "luigi.notifications": "luigi.notifications has no trunq equivalent (see trunq.notifications and [email] settings)",
    "luigi.interface": "luigi.interface internals have no trunq equivalent; use trunq.build/trunq.run",
    "luigi.worker": "luigi's worker internals have no trunq equivalent",
    "luigi.scheduler": "luigi's central scheduler is replaced by Redis + Celery in trunq",
    "luigi.rpc": "luigi's RPC scheduler client (RemoteScheduler) has no trunq equivalent; the cluster is Redis",
    "luigi.RemoteScheduler": "luigi's RPC scheduler client (RemoteScheduler) has no trunq equivalent; the cluster is Redis",
    "luigi.RPCError": "luigi's RPC scheduler client has no trunq equivalent; the cluster is Redis",
    "luigi.server": "luigid's web server is replaced by `trunq web`",
    "luigi.configuration": "luigi's config parser has no trunq equivalent: use trunq.config.get_config() "
                           "and TRUNQ_CONFIG_PATH",
}


@dataclass(frozen=True)
class Mapped:
    name: str  # a dotted trunq name, e.g. "trunq.Step"


@dataclass(frozen=True)
class Unsupported:
    why: str


def _is_parameter_name(name: str) -> bool:
    return name.endswith(("Parameter", "ParameterException", "ParameterWarning")) or name.endswith(
        "ParameterTypeWarning")


def _top(name: str) -> Mapped | Unsupported:
    if name in TOP_RENAMES:
        return Mapped(f"trunq.{TOP_RENAMES[name]}")
    if name in _SAME or _is_parameter_name(name):
        return Mapped(f"trunq.{name}")
    return Unsupported(_WHY.get(f"luigi.{name}", f"luigi.{name} has no trunq equivalent"))


def resolve(dotted: str) -> Mapped | Unsupported | None:
    """The trunq name for the luigi name ``dotted`` (a module, class or member)."""
    found = _resolve(dotted)
    if isinstance(found, Unsupported) and not found.why.startswith(dotted):
        return Unsupported(f"{dotted}: {found.why}")
    return found


def _resolve(dotted: str) -> Mapped | Unsupported | None:
    if dotted in MODULE_ONLY:
        return Mapped(MODULE_ONLY[dotted])
    parts = dotted.split(".")
    if parts[0] != "luigi":
        return None
    if len(parts) == 1:
        return Mapped("trunq")
    for cut in range(len(parts), 1, -1):  # the longest known prefix wins
        prefix, rest = ".".join(parts[:cut]), parts[cut:]
        if prefix in EXACT:
            return Mapped(".".join([EXACT[prefix], *rest]))
        if prefix in MODULES:
            tail = [TOP_RENAMES.get(rest[0], rest[0]), *rest[1:]] if rest else []
            return _checked(dotted, Mapped(".".join([MODULES[prefix], *tail])), len(MODULES[prefix]))
        if prefix in _WHY:
            return Unsupported(_WHY[prefix])
    if parts[1] in ("task", "target", "local_target", "event", "execution_summary"):
        # members these modules re-export from the top level (luigi.task.Parameter)
        found = _top(parts[2]) if len(parts) > 2 else Unsupported(f"{dotted} has no trunq equivalent")
        if isinstance(found, Mapped):
            return Mapped(".".join([found.name, *parts[3:]]))
        return Unsupported(f"{dotted} has no trunq equivalent")
    if parts[1] == "contrib":
        return Unsupported(_WHY["luigi.contrib"])
    top = _top(parts[1])
    if isinstance(top, Mapped):
        return Mapped(".".join([top.name, *parts[2:]]))
    return top


def _checked(dotted: str, found: Mapped, module_length: int) -> Mapped | Unsupported:
    """``found`` if the trunq module really has that member (luigi's modules hold more)."""
    module_name, rest = found.name[:module_length], found.name[module_length + 1:]
    if not rest:
        return found
    try:
        value: object = importlib.import_module(module_name)
    except ImportError:  # an optional part not installed here: trust the table
        return found
    for part in rest.split("."):
        if not hasattr(value, part):
            return Unsupported(f"{dotted}: {module_name} has no {part}")
        value = getattr(value, part)
    return found


# Attribute and method names of steps renamed in trunq (luigi's spelling still works as an alias
# for most, but the migrated code should read as trunq).
MEMBER_RENAMES = {
    "task_id": "step_id",
    "task_family": "step_family",
    "get_task_family": "get_step_family",
    "task_namespace": "step_namespace",
}
