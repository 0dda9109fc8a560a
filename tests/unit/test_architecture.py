"""The layering of docs/design.md (*Layers*), checked on the source: imports point down only.

Every module's imports are read with ``ast`` (lazy imports inside functions count too; imports
under ``if TYPE_CHECKING:`` count for the package rules but not for the module cycle check).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "wkmp_ai"
LEAVES = {"errors", "ticks", "config", "params", "events", "heap"}  # modules everyone may use
DOMAIN = {"scan", "audio", "identify"}
# What each layer may import besides itself, the package root (``from wkmp_ai import __version__``),
# the standard library and third-party packages.
ALLOWED = {
    "errors": set(),
    "ticks": set(),
    "events": set(),
    "heap": set(),  # the allocator settings of the processes that analyse (a worker, wkmp-ai analyze)
    "shutdown": set(),  # the exit deadline of serve and import (edges only)
    "params": {"errors"},
    "config": {"errors"},
    "records": {"errors", "ticks"},
    "db": {"records", "errors", "ticks", "params"},
    "scan": {"records"} | LEAVES,
    "audio": {"records"} | LEAVES,
    "identify": {"records", "scan"} | LEAVES,
    "ingest": {"records", "db"} | DOMAIN | LEAVES,
    # The segment editor's services read releases and re-measure a moved passage: domain work a person
    # asks for, one file at a time, outside any import (docs/editor.md); the edges still reach only services.
    "services": {"records", "db", "ingest"} | DOMAIN | LEAVES,
    "api": {"services", "ingest", "records", "db"} | LEAVES,
    "cli": {"services", "ingest", "records", "db", "server", "shutdown"} | LEAVES,
    "server": {"api", "shutdown"} | LEAVES,
}
# The edges reach the database only through services (``wkmp_ai.db`` itself, to open it, aside).
EDGES = ("api", "cli")


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name without the "wkmp_ai." prefix
    target: str
    line: int
    type_only: bool


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts) or "__init__"


def _is_module(name: str) -> bool:
    return (SRC / f"{name}.py").is_file() or (SRC / name / "__init__.py").is_file()


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def imports() -> tuple[Import, ...]:
    found: list[Import] = []
    for path in sorted(SRC.rglob("*.py")):
        name = _module_name(path)
        package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def visit(node: ast.AST, type_only: bool, name: str = name, package: list[str] = package) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _type_checking(child):
                    for sub in child.body:
                        visit_one(sub, True)
                    for sub in child.orelse:
                        visit_one(sub, type_only)
                    continue
                visit_one(child, type_only)

        def visit_one(node: ast.AST, type_only: bool, name: str = name, package: list[str] = package) -> None:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    module = ".".join(["wkmp_ai", *base, *(node.module.split(".") if node.module else [])])
                else:
                    module = node.module or ""
                targets = [module]
                # "from wkmp_ai import params" names a module; "from wkmp_ai import __version__" the root
                if module == "wkmp_ai":
                    targets = [f"wkmp_ai.{a.name}" if _is_module(a.name) else "wkmp_ai" for a in node.names]
            for target in targets:
                if target == "wkmp_ai" or target.startswith("wkmp_ai."):
                    found.append(
                        Import(name, target.removeprefix("wkmp_ai.").removeprefix("wkmp_ai"), node.lineno, type_only)
                    )
            visit(node, type_only)

        visit(tree, False)
    return tuple(found)


def layer(module: str) -> str:
    return module.split(".")[0]


def _describe(bad: list[Import]) -> str:
    return "\n".join(f"  {i.importer} (line {i.line}) imports {i.target}" for i in bad)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_lower_layer_imports_only_what_lies_below_it(package: str) -> None:
    bad = [
        i for i in imports() if layer(i.importer) == package and layer(i.target) not in ALLOWED[package] | {package, ""}
    ]
    assert not bad, f"{package} may import only {sorted(ALLOWED[package])}:\n{_describe(bad)}"


def test_every_module_has_a_layer() -> None:
    layers = {layer(i.importer) for i in imports()} - {"__init__", "__main__"}
    assert layers <= set(ALLOWED), f"modules outside any layer: {sorted(layers - set(ALLOWED))}"


@pytest.mark.parametrize("edge", EDGES)
def test_the_edges_use_services_not_the_domain_or_sql(edge: str) -> None:
    bad = [
        i for i in imports() if layer(i.importer) == edge and (layer(i.target) in DOMAIN or i.target.startswith("db."))
    ]
    assert not bad, f"{edge} goes past the services:\n{_describe(bad)}"


def test_identify_imports_no_db() -> None:
    bad = [i for i in imports() if layer(i.importer) == "identify" and layer(i.target) == "db"]
    assert not bad, _describe(bad)


def test_there_is_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for i in imports():
        a, b = layer(i.importer), layer(i.target)
        if a != b and b:
            graph[a].add(b)
    cycles = _cycles(graph)
    assert not cycles, "import cycles between packages: " + "; ".join(" → ".join(c) for c in cycles)


def test_there_is_no_cycle_between_modules() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    modules = {i.importer for i in imports()}
    for i in imports():
        if not i.type_only and i.target in modules and i.target != i.importer:
            graph[i.importer].add(i.target)
    # A package's __init__ re-exporting its modules is not a cycle of the design.
    for name in list(graph):
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    cycles = _cycles(graph)
    assert not cycles, "import cycles between modules: " + "; ".join(" → ".join(c) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
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
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


POOLS = {"ProcessPoolExecutor", "ThreadPoolExecutor", "Pool", "Process"}


def test_only_ingest_starts_pools_and_processes() -> None:
    """``ProcessPoolExecutor(...)``, ``ThreadPoolExecutor(...)``, ``multiprocessing.Pool/Process(...)``
    and ``ctx.Process(...)`` are called in :mod:`wkmp_ai.ingest` only."""
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        name = _module_name(path)
        if layer(name) == "ingest":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if called in POOLS:
                    bad.append(f"  {name} (line {node.lineno}) calls {called}")
    assert not bad, "pools and processes belong to wkmp_ai.ingest:\n" + "\n".join(bad)


OUTSIDE_DOCS = re.compile(
    r"\b(?:DECISIONS|REFERENCE|STYLE|ARCHITECTURE)(?:\.md\b| §| #\d)|\bSPEC\d{3}\b|\bIMPL\d{3}\b|shared/(?:spec|design)"
)


def test_no_source_cites_a_document_outside_the_repository() -> None:
    """Comments cite docs/ (docs/design.md and the package pages), which a reader of the repository has."""
    here = Path(__file__).resolve()
    roots = [SRC, here.parents[1]]  # src/wkmp_ai and tests/
    bad = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix not in {".py", ".sql", ".js", ".html", ".css"} or path == here:
                continue
            for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if OUTSIDE_DOCS.search(text):
                    bad.append(f"  {path.relative_to(root.parent)}:{number}: {text.strip()}")
    assert not bad, "cite docs/ instead:\n" + "\n".join(bad)
