"""Services speak in domain errors: HTTP problem details are raised only by views and the HTTP plumbing."""

from __future__ import annotations

import ast
from pathlib import Path

import appinstall

PACKAGE = Path(appinstall.__file__).parent


def _may_speak_http(path: Path) -> bool:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] == "http" or path.name.endswith("views.py")


def _raises_problem_error(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if name == "ProblemError":
                lines.append(node.lineno)
    return lines


def test_no_module_outside_the_views_and_http_makes_a_problem_error() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not _may_speak_http(path)
        for line in _raises_problem_error(path)
    ]
    assert offenders == []


def test_the_check_sees_a_problem_error_where_one_is_made(tmp_path: Path) -> None:
    module = tmp_path / "service.py"
    module.write_text("def refuse():\n    raise ProblemError(404, 'gone', 'it is gone')\n")
    assert _raises_problem_error(module) == [2]
