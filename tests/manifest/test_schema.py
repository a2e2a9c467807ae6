from pathlib import Path

from jsonschema import Draft202012Validator

from appinstall.manifest.schema import manifest_schema, manifest_schema_text
from tests.conftest import SEED

COMMITTED = Path(__file__).resolve().parents[2] / "schemas" / "manifest.schema.json"


def test_committed_schema_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == manifest_schema_text(), "run `make docs`"


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(manifest_schema())


def test_the_schema_accepts_the_seed_example() -> None:
    assert Draft202012Validator(manifest_schema()).is_valid(SEED)


def test_the_schema_offers_no_null_where_the_validator_refuses_it() -> None:
    assert '"null"' not in manifest_schema_text()


def test_the_schema_publishes_the_legacy_spelling_as_deprecated() -> None:
    webhooks = manifest_schema()["$defs"]["Webhooks"]
    legacy = webhooks["properties"]["ms.MessagingEventNotification.ExConversationChangeNotification"]
    assert legacy["deprecated"] is True
