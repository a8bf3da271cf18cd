"""No hidden import cycles in src/homestack.

The graph is built from the source (AST), not by importing it: every `import` and `from …
import` counts wherever it is written (at the top, inside a function, in a try), except
under `if TYPE_CHECKING:`, which never runs. `from .pkg import name` points at the module
`pkg.name` when there is one, else at `pkg`. A function-level import is how a cycle hides:
it works until someone moves it to the top, or until the modules load in another order.

ALLOWED holds the edges that may still close a cycle, each waiting for the change that
removes it (none now: `up`'s update hooks come from the Context); a cycle through any other
edge fails, printed as a path.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "homestack"

#: (importer, imported) → why the edge is still there (and what removes it)
ALLOWED: dict[tuple[str, str], str] = {}


def modules(src: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _owner(name: str, known: dict[str, Path]) -> str | None:
    """The module `name` is, or the nearest package above it that is one of ours."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit_node(other)
                continue
            visit_node(child)

    def visit_node(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (target := _owner(alias.name, known)) is not None:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                target = f"{module}.{alias.name}"
                if target not in known:
                    target = _owner(module, known) or ""
                if target:
                    found.add(target)
        else:
            visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    found.discard(name)
    return found


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    known = modules(src)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle (as a path back to its start) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return [_shortest_cycle(graph, component) for component in components]


def _shortest_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    best: list[str] = []
    for start in sorted(component):
        parent: dict[str, str] = {}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    path = [*reversed(path), start]
                    if not best or len(path) < len(best):
                        best = path
                    queue.clear()
                    break
                if child not in parent:
                    parent[child] = node
                    queue.append(child)
    return best


def test_no_import_cycles() -> None:
    graph = import_graph()
    for importer, imported in ALLOWED:
        graph.get(importer, set()).discard(imported)
    found = cycles(graph)
    assert found == [], "import cycles (each shown as a path back to its start):\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in found
    )


def test_every_allowed_edge_still_exists() -> None:
    """The exceptions only shrink: an edge that is gone leaves ALLOWED too."""
    graph = import_graph()
    gone = [edge for edge in ALLOWED if edge[1] not in graph.get(edge[0], set())]
    assert gone == [], f"delete these from ALLOWED, they no longer exist: {gone}"


def test_the_graph_sees_function_level_imports_and_skips_type_checking(tmp_path: Path) -> None:
    """The checker itself: a cycle through an import inside a function is found; one through
    an `if TYPE_CHECKING:` import is not (it never runs)."""
    package = tmp_path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .a import x\n    return x\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import y\n"
    )
    (package / "d.py").write_text("from .c import z\n")
    graph = import_graph(tmp_path)
    assert cycles(graph) == [["homestack.a", "homestack.b", "homestack.a"]]
    assert graph["homestack.c"] == set()
