"""What a reader copies uses only the public Python surface: the docs' Python blocks and the example connector
import ``appinstall.connector`` and the validator at the top of ``appinstall``, never the server's inside."""

from __future__ import annotations

import ast
import re

from tests.docs.page_session import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = ROOT / "examples"
PUBLIC_TOP_LEVEL = {"Manifest", "Problem", "ValidationResult", "validate_document", "validate_manifest"}
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _private_imports(source: str) -> list[str]:
    """The imports of appinstall's inside in some Python source (``appinstall.connector`` and the validator are
    public)."""
    private = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "appinstall":
            names = [f"appinstall.{alias.name}" for alias in node.names if alias.name not in PUBLIC_TOP_LEVEL]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        else:
            continue
        private.extend(
            name
            for name in names
            if name.startswith("appinstall.") and not (name + ".").startswith("appinstall.connector.")
        )
    return private


def test_the_python_blocks_of_the_docs_import_only_the_public_surface() -> None:
    private = {
        f"{page.name}: {name}"
        for page in PAGES
        for block in PYTHON_BLOCK.findall(page.read_text())
        for name in _private_imports(block)
    }
    assert private == set()


def test_the_example_connector_imports_only_the_public_surface() -> None:
    private = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted(EXAMPLES.rglob("*.py"))
        for name in _private_imports(path.read_text())
    }
    assert private == set()


def test_an_import_of_the_servers_inside_is_seen() -> None:
    assert _private_imports(
        "from appinstall.webhooks import verify\nimport appinstall.client\nfrom appinstall import store\n"
        "from appinstall import validate_manifest\nfrom appinstall.connector import verify\n"
    ) == ["appinstall.webhooks", "appinstall.client", "appinstall.store"]
