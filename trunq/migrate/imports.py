"""Rewriting one luigi import statement into trunq imports.

Each imported luigi name becomes its trunq name (``from luigi import Task`` -> ``from trunq import
Step``); what has no trunq equivalent keeps its luigi import so the module still loads, and is
reported. ``Binding`` records what a local name now refers to, for rewriting its uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from trunq.migrate.names import Mapped, Unsupported, resolve

# luigi modules whose members map one by one; importing the module itself becomes ``import trunq``.
_MEMBER_MODULES = {"luigi.task", "luigi.target", "luigi.local_target", "luigi.event",
                   "luigi.execution_summary", "luigi.interface"}


@dataclass(frozen=True)
class Binding:
    local: str  # the name the migrated module uses
    root: str  # the trunq dotted name that ``local`` stands for


def dotted(node: cst.BaseExpression | None) -> str:
    """``a.b.c`` for a Name/Attribute chain, "" otherwise."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else ""
    return ""


def name_node(text: str) -> cst.Attribute | cst.Name:
    """A Name/Attribute chain for ``a.b.c``."""
    head, *rest = text.split(".")
    node: cst.Attribute | cst.Name = cst.Name(head)
    for part in rest:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def module_target(full: str) -> Mapped | Unsupported:
    """The trunq module an ``import luigi.x.y`` becomes."""
    if full in _MEMBER_MODULES:
        return Mapped("trunq")
    found = resolve(full)
    assert found is not None
    return found


class ImportPlan:
    """The statements replacing one luigi import, the bindings it makes, and what stays luigi."""

    def __init__(self) -> None:
        self.statements: list[cst.BaseSmallStatement] = []
        self.bindings: dict[str, Binding] = {}
        self.unsupported: list[str] = []

    def add_import(self, module: str, asname: str | None) -> None:
        alias = cst.ImportAlias(name=name_node(module),
                                asname=cst.AsName(name=cst.Name(asname)) if asname else None)
        if not any(isinstance(s, cst.Import) and s.names[0].deep_equals(alias) for s in self.statements):
            self.statements.append(cst.Import(names=[alias]))

    def add_from(self, module: str, name: str, asname: str | None) -> None:
        alias = cst.ImportAlias(name=cst.Name(name),
                                asname=cst.AsName(name=cst.Name(asname)) if asname else None)
        for index, statement in enumerate(self.statements):
            if isinstance(statement, cst.ImportFrom) and dotted(statement.module) == module:
                names = list(statement.names)  # type: ignore[arg-type]
                if not any(existing.deep_equals(alias) for existing in names):
                    names = [n.with_changes(comma=cst.MaybeSentinel.DEFAULT) for n in names]
                    self.statements[index] = statement.with_changes(names=[*names, alias])
                return
        self.statements.append(cst.ImportFrom(module=name_node(module), names=[alias]))


def plan_import(node: cst.Import, keep_luigi: set[str]) -> ImportPlan | None:
    """``import luigi...`` -> trunq imports; None when the statement imports no luigi module."""
    aliases = [(dotted(a.name), cst.ensure_type(a.asname.name, cst.Name).value if a.asname else None)
               for a in node.names]
    if not any(full == "luigi" or full.startswith("luigi.") for full, _ in aliases):
        return None
    plan = ImportPlan()
    for full, asname in aliases:
        if not (full == "luigi" or full.startswith("luigi.")):
            plan.add_import(full, asname)
            continue
        target = module_target(full)
        local = asname or "luigi"
        if isinstance(target, Unsupported):
            plan.unsupported.append(target.why)
            plan.add_import(full, asname)
            continue
        plan.add_import(target.name, asname)
        plan.bindings[local] = Binding(asname or "trunq", target.name if asname else "trunq")
        if local in keep_luigi:
            plan.add_import(full if asname else "luigi", asname)
    return plan


def plan_import_from(node: cst.ImportFrom, keep_luigi: set[str]) -> ImportPlan | None:
    """``from luigi... import a, b as c`` -> trunq imports; None when not a luigi import."""
    if node.relative or node.module is None:
        return None
    module = dotted(node.module)
    if not (module == "luigi" or module.startswith("luigi.")):
        return None
    plan = ImportPlan()
    if isinstance(node.names, cst.ImportStar):
        plan.unsupported.append(f"`from {module} import *`: import the names you use")
        plan.statements.append(node)
        return plan
    for alias in node.names:
        name = dotted(alias.name)
        asname = alias.asname.name.value if alias.asname else None  # type: ignore[union-attr]
        local = asname or name
        target = resolve(f"{module}.{name}")
        if not isinstance(target, Mapped):
            plan.unsupported.append(target.why if target else f"{module}.{name} is not luigi's")
            plan.add_from(module, name, asname)
            continue
        if target.name == "trunq":
            plan.add_import("trunq", asname)
            plan.bindings[local] = Binding(asname or "trunq", "trunq")
        else:
            parent, _, last = target.name.rpartition(".")
            plan.add_from(parent, last, asname)
            plan.bindings[local] = Binding(asname or last, target.name)
        if local in keep_luigi:
            plan.add_from(module, name, asname)
    return plan
