"""The engine's files import one another without a circle, at import time or for annotations: a
lower layer never imports a higher one (DESIGN.md, "Layers of the engine"). Imports inside a
function are the engine's way to load a file only when a run needs it, and stay allowed."""

from __future__ import annotations

import ast
import os

ENGINE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                      "plugins", "module_utils")


def _imports_at_the_top(path: str) -> set[str]:
    """The engine files that `path` imports in its module body, TYPE_CHECKING blocks included."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    found: set[str] = set()
    statements = list(tree.body)
    while statements:
        node = statements.pop()
        if isinstance(node, (ast.If, ast.Try)):
            statements += node.body + node.orelse + getattr(node, "handlers", []) + getattr(node, "finalbody", [])
        elif isinstance(node, ast.ExceptHandler):
            statements += node.body
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {alias.name for alias in node.names} if node.module is None else {node.module}
    return found


def _graph() -> dict[str, set[str]]:
    files = {name[:-3] for name in os.listdir(ENGINE) if name.endswith(".py") and name != "__init__.py"}
    return {name: _imports_at_the_top(os.path.join(ENGINE, name + ".py")) & files for name in files}


def test_no_circle_between_the_engines_files():
    graph = _graph()
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        assert state.get(name) != "open", " -> ".join(trail + [name])
        state[name] = "open"
        for other in sorted(graph[name]):
            visit(other, trail + [name])
        state[name] = "done"

    for name in sorted(graph):
        visit(name, [])
