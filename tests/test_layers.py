"""The project's layers (docs/architecture.md): every import points down, and no two modules import
each other, directly or through others. Imports inside functions count: a lazy import is still
an arrow a reader has to follow."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("metrics", "reports", "data", "ui", "pages")

# Lowest first. A module may import its own layer and the layers below it.
LAYERS = ["metrics", "reports", "data.storage", "data.imports", "data.services", "ui", "pages"]
# The command-line entries compose the layers they sit on top of.
ENTRIES = {"metrics.__main__", "data.__main__", "data.cli"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    for top in ("app", "serve"):
        found[top] = ROOT / f"{top}.py"
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports, anywhere in the file."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name in modules:
                out.add(name)
    return out


def _layer(module: str) -> int | None:
    if module.startswith("pages") or module in ("app", "serve"):
        return LAYERS.index("pages")
    for i in range(len(LAYERS) - 1, -1, -1):
        if module == LAYERS[i] or module.startswith(LAYERS[i] + "."):
            return i
    return None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_every_import_points_down():
    upward = []
    for module, targets in _graph().items():
        if module in ENTRIES:
            continue
        mine = _layer(module)
        for target in targets:
            theirs = _layer(target)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_import_cycle_anywhere():
    graph = _graph()
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_checks_see_the_arrows_they_judge():
    """The graph is read from the code: a known downward arrow and the layer of each package."""
    graph = _graph()
    assert "data.services.snapshot" in graph["data.services.scorecards"]
    assert "metrics.scorecard" in graph["data.services.snapshot"]
    assert [_layer(m) for m in ("metrics.scorecard", "reports.excel", "data.storage.db", "data.imports.spec",
                                "data.services.reading", "ui.widgets", "pages.overview", "app")] == list(range(7)) + [6]
