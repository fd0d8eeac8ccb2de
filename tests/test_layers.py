"""The package layers: imports run one way, down, and no module imports itself back.

Every `import` and `from ... import` statement of every module is read from its syntax tree,
inside functions and `if TYPE_CHECKING:` blocks included, so a cycle hidden in a function body
counts like any other. Layers, bottom to top: core < index, llm < answer < adapters < api <
surfaces (`index` and `llm` are siblings and import neither each other nor anything above).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
RANK = {"core": 0, "index": 1, "llm": 1, "answer": 2, "adapters": 3, "api": 4, "surfaces": 5}
SURFACE_MAY_IMPORT = ("assistant", "assistant.api", "assistant.core")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    """The layer of `assistant.<layer>...`; the package root belongs to the boundary."""
    parts = module.split(".")
    return "api" if len(parts) == 1 else parts[1]


def imports(path: Path) -> set[str]:
    """Every assistant module `path` imports, anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "assistant"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != "assistant":
                continue
            for alias in node.names:  # `from assistant.core import prompts` imports a module
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {m for m in found if m in MODULES}


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(p) for p in FILES}
GRAPH = {module_name(p): imports(p) for p in FILES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_layer_packages_exist() -> None:
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages == set(RANK) - {"api"}


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_imports_only_go_down() -> None:
    upward = [f"{a} -> {b}" for a, targets in GRAPH.items() for b in sorted(targets)
              if RANK[layer(b)] > RANK[layer(a)]
              or (layer(a) != layer(b) and RANK[layer(b)] == RANK[layer(a)])]
    assert upward == []


def test_surfaces_use_only_the_boundary() -> None:
    below = [f"{a} -> {b}" for a, targets in GRAPH.items() if layer(a) == "surfaces"
             for b in sorted(targets) if layer(b) != "surfaces"
             and not any(b == m or b.startswith(m + ".") for m in SURFACE_MAY_IMPORT[1:])
             and b != "assistant"]
    assert below == []


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"a"}}, [["a"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_cycles_finds_what_it_should(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_imports_reads_function_bodies(tmp_path: Path) -> None:
    """An import inside a function is seen like one at the top."""
    assert "assistant.surfaces.ui" in imports(PACKAGE / "surfaces" / "serve.py")
