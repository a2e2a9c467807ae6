"""Routes reach the application only through ``http.deps``, and the settings, read by everything, import no domain."""

from __future__ import annotations

import ast
from pathlib import Path

import appinstall
from tests.import_graph import import_graph

PACKAGE = Path(appinstall.__file__).parent
DOMAINS = ("accounts", "registry", "tokens", "webhooks", "sandbox", "manifest", "store", "connector")


def _reads_of_app_state(path: Path) -> list[int]:
    """Lines that read an attribute of ``….app.state`` (``request.app.state.settings``)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "state"
            and isinstance(node.value.value, ast.Attribute)
            and node.value.value.attr == "app"
        ):
            lines.append(node.lineno)
    return lines


def test_no_view_reads_the_application_state_by_hand() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*views.py"))
        for line in _reads_of_app_state(path)
    ]
    assert offenders == []


def test_the_check_sees_a_read_of_the_application_state(tmp_path: Path) -> None:
    module = tmp_path / "views.py"
    module.write_text("def route(request):\n    return request.app.state.settings\n")
    assert _reads_of_app_state(module) == [2]


def test_the_settings_import_no_domain() -> None:
    imported = import_graph()["appinstall.settings"]
    assert sorted(name for name in imported if name.split(".")[1:2] in ([domain] for domain in DOMAINS)) == []
