"""The connector package stands apart from the server: a connector imports it without the store, the app or the
delivery engine, so that the server's inside can change without breaking a connector."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import appinstall.connector

PACKAGE = Path(appinstall.connector.__file__).parent
# What the connector may import from appinstall: itself, and the manifest's pure vocabulary (the event types).
ALLOWED = ("appinstall.connector", "appinstall.manifest")


def _imported_modules(path: Path) -> list[str]:
    """Every module a file imports, relative imports resolved against the connector package."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):  # each name, as it may be a module: from appinstall import store
            base = "appinstall.connector".rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            modules.extend(f"{module}.{alias.name}" for alias in node.names)
    return modules


def _outside(module: str) -> bool:
    inside_appinstall = module == "appinstall" or module.startswith("appinstall.")
    return inside_appinstall and not any(module == name or module.startswith(name + ".") for name in ALLOWED)


def test_the_connector_package_imports_nothing_of_the_server() -> None:
    offending = {
        f"{path.relative_to(PACKAGE.parent.parent)}: {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for module in _imported_modules(path)
        if _outside(module)
    }
    assert offending == set()


@pytest.mark.parametrize(
    ("source", "outside"),
    [
        ("from appinstall.store import Store", True),
        ("from appinstall import webhooks", True),
        ("import appinstall.app", True),
        ("from ..webhooks import envelope", True),
        ("from appinstall.connector.signing import ID_HEADER", False),
        ("from .signing import ID_HEADER", False),
        ("from appinstall.manifest.rules import CONTENT_EVENT", False),
        ("import httpx", False),
    ],
)
def test_the_scan_tells_an_import_of_the_server(tmp_path: Path, source: str, outside: bool) -> None:
    module = tmp_path / "module.py"
    module.write_text(source + "\n")
    assert any(_outside(name) for name in _imported_modules(module)) is outside


def test_importing_the_connector_loads_no_server_module() -> None:
    script = (
        "import sys, appinstall.connector\n"
        "print('\\n'.join(name for name in sys.modules if name.startswith('appinstall.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert [module for module in loaded if _outside(module)] == []
