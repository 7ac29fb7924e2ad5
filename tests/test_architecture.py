"""Layering rules of DESIGN.md, checked on the source: dependencies point down, no circles.

* No module of ``epass/`` outside ``epass/cli/`` imports ``drivers``, ``click`` or
  ``smartcard`` (pyscard): the core runs without PC/SC and without a CLI.
* No two modules of ``epass/`` import each other, directly or through others,
  counting imports inside functions too (a local import hides a circle, it does
  not remove it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "epass"
FORBIDDEN = ("drivers", "click", "smartcard")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The modules *path* imports (absolute names), local imports included."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                out.add(candidate if candidate in known else base)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def test_core_never_imports_drivers_click_or_pyscard():
    offenders = []
    for name, imported in _graph().items():
        if name == "epass.cli" or name.startswith("epass.cli."):
            continue
        for target in imported:
            if target.split(".")[0] in FORBIDDEN:
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a self-import (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles_in_the_core():
    assert _cycles(_graph()) == []


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"a"}}, [["a"]]),
    ],
)
def test_the_circle_finder_finds_circles(graph, expected):
    assert _cycles(graph) == expected


def test_the_import_scanner_sees_local_and_relative_imports(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "import os\ndef f():\n    from epass.apdu import StatusWord\n    from . import sibling\n",
        "utf-8",
    )
    found = _imports(source, "epass.pkg.mod", {"epass.apdu", "epass.pkg.sibling"})
    assert {"os", "epass.apdu", "epass.pkg.sibling"} <= found


def test_only_the_crypto_door_imports_crypto_libraries():
    """``epass._crypto`` is the one door: the rest of the core names operations, not libraries.

    (``drivers/`` may use ``cryptography`` directly to *make* test keys and signatures.)
    """
    offenders = []
    for name, imported in _graph().items():
        if name == "epass._crypto" or name.startswith("epass._crypto."):
            continue
        for target in imported:
            if target.startswith(("cryptography.hazmat", "fastecdsa", "ecdsa", "gmpy2")):
                offenders.append(f"{name} imports {target}")
    assert offenders == []
