"""The layout's import rules, checked on the source (every import, also inside functions).

Lower rooms reach adapters only through string plugin paths (e.g. execution/dispatch.py's
``CELERY_DISPATCHER = "trunq.tasks.dispatch:CeleryExecutor"``), which this AST check ignores.
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "trunq"
MAX_LINES = 600
# optional imports core may try (guarded by ``except ImportError``): DictParameter(schema=...)
CORE_OPTIONAL = {"jsonschema"}
# third-party top-level name -> the module path prefixes allowed to import it
ADAPTERS = {"celery": ("trunq/tasks/",), "kombu": ("trunq/tasks/",), "flask": ("trunq/web/",),
            "werkzeug": ("trunq/web/",), "sqlalchemy": ("trunq/history/",),
            "redis": ("trunq/scheduler/redis.py", "trunq/tasks/")}


@functools.cache
def _modules() -> dict[str, tuple[str, ast.Module]]:
    """dotted name -> (path relative to the repo, parsed tree)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent)
        name = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        found[name] = (rel.as_posix(), ast.parse(path.read_text(), str(path)))
    return found


def _imports(name: str, tree: ast.Module, nodes=None) -> list[str]:  # noqa: ANN001
    """Absolute names imported by ``nodes`` (default: every node of the module)."""
    names = []
    for node in nodes if nodes is not None else ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")[: len(name.split(".")) - node.level + (name in PACKAGES)]
                base = ".".join([*parts, *([base] if base else [])])
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


PACKAGES = {name for name, (path, _) in _modules().items() if path.endswith("__init__.py")}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that can run, function bodies included; type-only ``if TYPE_CHECKING:`` left out."""
    nodes = []
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            nodes += [node for orelse in child.orelse for node in [orelse, *_runtime_nodes(orelse)]]
            continue
        nodes += [child, *_runtime_nodes(child)]
    return nodes


def test_core_imports_only_the_standard_library_and_core() -> None:
    bad = [(path, imported) for name, (path, tree) in _modules().items() if path.startswith("trunq/core/")
           for imported in _imports(name, tree, _runtime_nodes(tree))
           if imported.split(".")[0] not in sys.stdlib_module_names
           and not (imported == "trunq.core" or imported.startswith("trunq.core."))
           and imported.split(".")[0] not in CORE_OPTIONAL]
    assert bad == []


def test_third_party_adapters_stay_in_their_rooms() -> None:
    bad = [(path, imported) for name, (path, tree) in _modules().items() for imported in _imports(name, tree)
           if imported.split(".")[0] in ADAPTERS and not path.startswith(ADAPTERS[imported.split(".")[0]])]
    assert bad == []


def test_no_import_cycles_at_module_level() -> None:
    modules = _modules()
    graph = {name: {target for target in _imports(name, tree, _import_time_nodes(tree))
                    if target in modules and target != name and not name.startswith(target + ".")}
             for name, (_, tree) in modules.items()}
    for name in graph:  # importing a.b.c first imports the packages a and a.b
        graph[name] |= {parent for target in list(graph[name]) for parent in _parents(target)
                        if parent in modules and parent != name and not name.startswith(parent + ".")}
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def _import_time_nodes(tree: ast.AST) -> list[ast.AST]:
    """The nodes run when the module is imported: not function bodies, not ``if TYPE_CHECKING:``."""
    nodes = []
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            nodes += [node for orelse in child.orelse for node in [orelse, *_import_time_nodes(orelse)]]
            continue
        nodes += [child, *_import_time_nodes(child)]
    return nodes


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    return next((found for node in sorted(graph) if node not in state and (found := visit(node))), None)


def test_no_module_is_over_600_lines() -> None:
    long = {path: n for path, _ in _modules().values()
            if (n := len((PACKAGE.parent / path).read_text().splitlines())) > MAX_LINES}
    assert long == {}
