"""Rewrite a luigi Python module to trunq on its concrete syntax tree (comments survive).

Uses are resolved through libcst's qualified names, so aliases (``import luigi as lg``,
``from luigi import Task as T``) and shadowing are handled. Two passes: the first finds the luigi
bindings still needed by something unconvertible, so the second keeps their luigi import.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import PositionProvider, QualifiedNameProvider, QualifiedNameSource

from trunq.migrate.imports import Binding, ImportPlan, dotted, name_node, plan_import, plan_import_from
from trunq.migrate.names import MEMBER_RENAMES, REMOTE_TARGETS, Mapped, resolve
from trunq.migrate.report import Issue

_SUSPECT_STRINGS = {
    "LUIGI_CONFIG_PATH": "string mentions LUIGI_CONFIG_PATH: trunq reads TRUNQ_CONFIG_PATH",
    "luigi.cfg": "string mentions luigi.cfg: the migrated config is trunq.toml",
}
_TARGET_KWARGS = {"path", "format"}
# trunq modules reachable as attributes after `import trunq` (its lazy submodules).
_LAZY_MODULES = {"", "trunq", "trunq.util", "trunq.format", "trunq.mock", "trunq.parameter",
                 "trunq.date_interval", "trunq.config", "trunq.tools"}


def _module_of(name: str) -> str:
    """The module to import for a dotted use: its longest prefix that is a module, so a class
    attribute (``trunq.BoolParameter.EXPLICIT_PARSING``, ``trunq.mock.MockTarget.fs``) needs
    only ``trunq`` or ``trunq.mock``."""
    parts = name.split(".")
    for end in range(len(parts) - 1, 1, -1):
        candidate = ".".join(parts[:end])
        try:
            if importlib.util.find_spec(candidate) is not None:
                return candidate
        except (ImportError, AttributeError, ValueError):  # a prefix that is a class, not a package
            continue
    return parts[0]


class LuigiToTrunq(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self, path: str, keep_luigi: set[str]) -> None:
        super().__init__()
        self.path = path
        self.keep_luigi = keep_luigi
        self.needs_luigi: set[str] = set()  # local luigi bindings used by something unconvertible
        self.issues: list[Issue] = []
        self.bindings: dict[str, Binding] = {}
        self.extra_imports: set[str] = set()  # trunq modules a fully qualified use needs
        self._inner: set[int] = set()  # ids of Name/Attribute nodes inside a longer chain
        self._in_import = 0
        self._scopes: list[str] = []  # "class" / "def"
        self._anchor: cst.CSTNode | None = None
        self._emitted: set[str] = set()
        self.imports_luigi = False  # member renames only in modules that import luigi
        self.touched = False

    # -- reporting ----------------------------------------------------------------------------
    def report(self, node: cst.CSTNode, why: str) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        issue = Issue(self.path, line, why)
        if issue not in self.issues:
            self.issues.append(issue)

    def luigi_name(self, node: cst.CSTNode) -> str | None:
        for qualified in self.get_metadata(QualifiedNameProvider, node, set()):
            if qualified.source == QualifiedNameSource.IMPORT and (
                    qualified.name == "luigi" or qualified.name.startswith("luigi.")):
                return qualified.name
        return None

    # -- imports ------------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        self._in_import += 1

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        self._in_import -= 1
        return updated_node

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._in_import += 1

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        self._in_import -= 1
        return updated_node

    def _plan(self, statement: cst.BaseSmallStatement) -> ImportPlan | None:
        if isinstance(statement, cst.Import):
            return plan_import(statement, self.keep_luigi)
        if isinstance(statement, cst.ImportFrom):
            return plan_import_from(statement, self.keep_luigi)
        return None

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        for statement in node.body:  # bindings first, so uses below resolve to them
            plan = self._plan(statement)
            if plan is not None:
                self.bindings.update(plan.bindings)
                self.imports_luigi = True

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine,
                                  updated_node: cst.SimpleStatementLine
                                  ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        plans = [self._plan(statement) for statement in original_node.body]
        if not any(plans):
            return updated_node
        self.touched = True
        for plan in plans:
            for why in plan.unsupported if plan else ():
                self.report(original_node, why)
        if len(original_node.body) > 1:  # `import luigi; x = 1`: rewrite in place, one line
            body = [s for plan, orig in zip(plans, updated_node.body, strict=True)
                    for s in (plan.statements if plan else [orig])]
            return updated_node.with_changes(body=body)
        assert plans[0] is not None
        statements = [s for s in plans[0].statements if self._first_time(s)]
        if not statements:
            if not any(line.comment for line in original_node.leading_lines):
                return cst.RemovalSentinel.REMOVE
            statements = plans[0].statements[:1]
        lines = [cst.SimpleStatementLine(body=[statement]) for statement in statements]
        lines[0] = lines[0].with_changes(leading_lines=original_node.leading_lines,
                                         trailing_whitespace=original_node.trailing_whitespace)
        if self._anchor is None and not self._scopes:
            self._anchor = lines[-1]
        return cst.FlattenSentinel(lines) if len(lines) > 1 else lines[0]

    def _first_time(self, statement: cst.BaseSmallStatement) -> bool:
        """False for a plain module-level ``import x`` already written above."""
        if self._scopes or not isinstance(statement, cst.Import):
            return True
        code = cst.Module([]).code_for_node(statement)
        if code in self._emitted:
            return False
        self._emitted.add(code)
        return True

    # -- uses -----------------------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._inner.add(id(node.value))
        self._inner.add(id(node.attr))

    def _rewrite_use(self, original: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
        if self._in_import or id(original) in self._inner or not dotted(original):
            return updated  # not the whole of a plain a.b.c chain (e.g. the `.get` of `f().get`)
        qualified = self.luigi_name(original)
        if qualified is None:
            return updated
        local_root = dotted(original).split(".")[0]
        found = resolve(qualified)
        if not isinstance(found, Mapped):
            self.report(original, found.why if found else f"{qualified} is not luigi's")
            self.needs_luigi.add(local_root)
            return updated
        self.touched = True
        module = _module_of(found.name)
        if module not in _LAZY_MODULES:  # not reachable as an attribute of `trunq` alone
            self.extra_imports.add(module)
        binding = self.bindings.get(local_root)
        if binding and (found.name == binding.root or found.name.startswith(binding.root + ".")):
            return name_node(binding.local + found.name[len(binding.root):])
        self.extra_imports.add("trunq")
        return name_node(found.name)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._rewrite_use(original_node, updated_node)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        result = self._rewrite_use(original_node, updated_node)
        if (result is updated_node and updated_node.attr.value in MEMBER_RENAMES and not self._in_import
                and self.imports_luigi):
            self.touched = True
            return updated_node.with_changes(attr=cst.Name(MEMBER_RENAMES[updated_node.attr.value]))
        return result

    # -- class members --------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.append("class")

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self._scopes.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append("def")

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._scopes.pop()
        name = updated_node.name.value
        if self._scopes[-1:] == ["class"] and name in MEMBER_RENAMES and self.imports_luigi:
            self.touched = True
            return updated_node.with_changes(name=cst.Name(MEMBER_RENAMES[name]))
        return updated_node

    def leave_AssignTarget(self, original_node: cst.AssignTarget, updated_node: cst.AssignTarget) -> cst.AssignTarget:
        target = updated_node.target
        if (self._scopes[-1:] == ["class"] and isinstance(target, cst.Name) and target.value in MEMBER_RENAMES
                and self.imports_luigi):
            self.touched = True
            return updated_node.with_changes(target=cst.Name(MEMBER_RENAMES[target.value]))
        return updated_node

    # -- calls and strings ------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        func = original_node.func
        if isinstance(func, cst.Name) and func.value == "getattr" and original_node.args:
            if self.luigi_name(original_node.args[0].value) == "luigi":
                self.report(original_node, "dynamic getattr on luigi: the name cannot be checked; spell it out")
            return updated_node
        scheme = REMOTE_TARGETS.get(self.luigi_name(func) or "")
        return self._remote_target(original_node, updated_node, scheme) if scheme else updated_node

    def _remote_target(self, original: cst.Call, updated: cst.Call, scheme: str) -> cst.Call:
        args = list(updated.args)
        for arg in args:
            if arg.keyword and arg.keyword.value not in _TARGET_KWARGS:
                self.report(original, f"{arg.keyword.value}= has no RemoteTarget equivalent "
                                      "(pass fsspec storage options instead)")
        path_index = next((i for i, a in enumerate(args) if a.keyword is None or a.keyword.value == "path"), None)
        if path_index is None:
            self.report(original, "remote target without a path: give RemoteTarget a URL")
            return updated
        arg = args[path_index]
        value = _with_scheme(arg.value, scheme)
        if value is None:
            self.report(original, f"RemoteTarget needs a {scheme}:// URL: check this path expression")
            value = arg.value
        args[path_index] = arg.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT, value=value)
        args.insert(0, args.pop(path_index))
        return updated.with_changes(args=args)

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        for needle, why in _SUSPECT_STRINGS.items():
            if needle in original_node.value:
                self.report(original_node, why)
        return updated_node

    # -- module -----------------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        bound = {b.local for b in self.bindings.values()}
        needed = sorted(m for m in self.extra_imports if not (m == "trunq" and "trunq" in bound))
        if not needed:
            return updated_node
        lines = [cst.SimpleStatementLine(body=[cst.Import(names=[cst.ImportAlias(name=name_node(m))])])
                 for m in needed]
        body = list(updated_node.body)
        at = next((i + 1 for i, s in enumerate(body) if s is self._anchor), _after_header(body))
        return updated_node.with_changes(body=body[:at] + lines + body[at:])


def _after_header(body: Sequence[cst.BaseStatement]) -> int:
    """The index after the docstring and ``from __future__`` imports."""
    index = 0
    for index, statement in enumerate(body):  # noqa: B007
        if not isinstance(statement, cst.SimpleStatementLine):
            return index
        small = statement.body[0]
        is_doc = isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
        is_future = isinstance(small, cst.ImportFrom) and dotted(small.module or cst.Name("")) == "__future__"
        if not (is_doc or is_future):
            return index
    return len(body)


def _with_scheme(value: cst.BaseExpression, scheme: str) -> cst.BaseExpression | None:
    """The path expression as a ``scheme://`` URL, None when that cannot be known statically."""
    if isinstance(value, cst.SimpleString):
        text = value.evaluated_value
        if isinstance(text, str) and "://" in text:
            return value
        if scheme == "hdfs" and isinstance(text, str) and text.startswith("/"):
            quote_at = len(value.prefix) + len(value.quote)
            return value.with_changes(value=value.value[:quote_at] + "hdfs://" + value.value[quote_at:])
        return None
    if isinstance(value, cst.FormattedString) and value.parts and isinstance(value.parts[0], cst.FormattedStringText):
        first = value.parts[0].value
        if "://" in first:
            return value
        if scheme == "hdfs" and first.startswith("/"):
            head = value.parts[0].with_changes(value="hdfs://" + first)
            return value.with_changes(parts=[head, *value.parts[1:]])
    return None


def rewrite_python(source: str, path: str) -> tuple[str, list[Issue]]:
    """The migrated text of one module and what needs attention. Raises cst.ParserSyntaxError."""
    module = cst.parse_module(source)
    first = LuigiToTrunq(path, set())
    result = cst.MetadataWrapper(module).visit(first)
    if first.needs_luigi:
        second = LuigiToTrunq(path, first.needs_luigi)
        result = cst.MetadataWrapper(module).visit(second)
        first = second
    if not first.touched:
        return source, first.issues
    return result.code, first.issues
