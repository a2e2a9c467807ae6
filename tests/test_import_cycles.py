"""No module of the ``appinstall`` package imports itself back, however indirectly.

A cycle makes the import order matter (a name read before its module has finished running), makes two modules
one unit that cannot be understood or tested apart, and is how a domain ends up reaching into another's inside.

The graph (``tests/import_graph.py``) is read statically from the source with ``ast``, so every import counts
wherever it stands:

* at module level;
* inside a function: a local import written to dodge a cycle still ties the two modules together;
* under ``if TYPE_CHECKING:``: it does not run, but the annotations it serves make each module need the other to be
  read, and it is the usual way to hide a cycle (``webhooks/health.py`` and ``queue.py`` had one).

An import names the module it loads: ``from appinstall.webhooks import health`` is an edge to
``appinstall.webhooks.health`` and ``from appinstall.store import Store`` one to the package ``appinstall.store``
(its ``__init__``). The parent packages that Python runs on the way are not edges (as in grimp and import-linter):
otherwise every ``__init__`` that re-exports its modules would be a cycle with each of them.
"""

from __future__ import annotations

import ast

from tests.import_graph import import_graph, imported_modules, package_modules


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan), as a path back to its start."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

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
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_path_within(graph, group) for group in groups]


def _path_within(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest way from the group's first module back to itself, staying inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle within {sorted(group)}")  # pragma: no cover - Tarjan's groups are cycles


def test_the_package_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_a_cycle_is_named_module_by_module() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_an_import_under_type_checking_counts() -> None:
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from appinstall.webhooks import queue\n")
    [node] = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0][1:]
    assert list(imported_modules(node, "appinstall.webhooks.health", False, set(package_modules()))) == [
        "appinstall.webhooks.queue"
    ]


def test_an_import_inside_a_function_is_an_edge() -> None:
    assert "appinstall.webhooks.worker" in import_graph()["appinstall.cli.server"]
