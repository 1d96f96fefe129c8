"""The import graph of the `service` package, read from the source with `ast` (nothing is imported).

Every `import` and `from ... import` counts, wherever it is: at the top, inside a function, under
`if TYPE_CHECKING:`. A module imports the module it names; `from package import name` imports the
submodule `package.name` where there is one, else the package itself. A package's `__init__` run
implicitly before its submodules is not counted, so a package may import its own children.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Set
from pathlib import Path

Graph = Mapping[str, Set[str]]


def module_files(root: Path) -> dict[str, Path]:
    """Module name -> file, for every .py file of the package at `root` (packages by their __init__)."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported_modules(module: str, path: Path, known: Set[str]) -> Iterator[str]:
    """The modules of `known` that one file imports, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known:
                    yield submodule
                elif base in known:
                    yield base


def module_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (itself excluded)."""
    modules = module_files(root)
    return {module: set(_imported_modules(module, path, modules.keys())) - {module}
            for module, path in modules.items()}


def unit_of(module: str) -> str:
    """The package a module counts in: `service.api.query` -> `service.api`; a top-level module
    (`service.database`) is a unit of its own."""
    return ".".join(module.split(".")[:2])


def package_graph(modules: Graph) -> dict[str, set[str]]:
    """Unit -> the other units its modules import."""
    graph: dict[str, set[str]] = {unit_of(module): set() for module in modules}
    for module, targets in modules.items():
        graph[unit_of(module)] |= {unit_of(target) for target in targets} - {unit_of(module)}
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)
