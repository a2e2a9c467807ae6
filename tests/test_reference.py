from pathlib import Path

import pytest

from appinstall.reference import reference_markdown, settings_markdown, with_reference

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("document", ["README.md", "docs/manifest.md", "docs/operations.md"])
def test_the_committed_reference_tables_are_current(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    assert with_reference(text) == text, "run `make docs`"


def test_the_reference_lists_every_key_of_the_seed() -> None:
    table = reference_markdown()
    for key in ["client_name", "logo_uri", "max_retries", "header_value", "retention_time", "language_selection"]:
        assert f"| `{key}` |" in table


def test_a_document_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="no reference start marker"):
        with_reference("# nothing here\n")


def test_the_configuration_table_lists_every_setting() -> None:
    table = settings_markdown()
    for variable in ["APPINSTALL_DATABASE_URL", "APPINSTALL_MASTER_KEY", "APPINSTALL_OPERATOR_TOKEN"]:
        assert f"| `{variable}` |" in table
