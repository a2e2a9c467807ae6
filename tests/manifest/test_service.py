from typing import Any

import pytest

from appinstall import validate_document, validate_manifest
from appinstall.manifest import rules
from tests.conftest import SEED_BYTES

WEBHOOKS = "/capabilities/webhooks"
CONTENT = f"{WEBHOOKS}/{rules.CONTENT_EVENT}"


def _errors(document: Any) -> list[tuple[str, str]]:
    return [(problem.pointer, problem.code) for problem in validate_document(document).errors]


def test_the_seed_example_is_valid_with_no_warnings() -> None:
    result = validate_manifest(SEED_BYTES)
    assert result.valid and result.errors == [] and result.warnings == []
    assert result.manifest is not None
    assert result.manifest.client_name == "App name"


def test_an_invalid_manifest_has_no_model() -> None:
    result = validate_document({})
    assert not result.valid
    assert result.manifest is None


def test_every_problem_is_reported_at_once(seed: dict[str, Any]) -> None:
    seed["client_name"] = ""
    seed["scope"] = "other"
    seed["capabilities"]["webhooks"][rules.CONTENT_EVENT]["max_retries"] = 9
    seed["capabilities"]["engagement"]["goal"] = ["world_peace"]
    assert _errors(seed) == [
        ("/client_name", "blank"),
        ("/scope", "missing_value"),
        (f"{CONTENT}/max_retries", "too_large"),
        ("/capabilities/engagement/goal/0", "not_allowed"),
    ]


def test_a_missing_client_name_is_required() -> None:
    assert _errors({}) == [("/client_name", "required")]


def test_a_number_written_as_a_string_gets_a_hint(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][rules.CONTENT_EVENT]["max_retries"] = "3"
    [problem] = validate_document(seed).errors
    assert (problem.code, problem.message) == ("type", "must be an integer")
    assert problem.hint == "write the number without quotes: 3"


def test_a_boolean_is_not_an_integer(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][rules.CONTENT_EVENT]["max_retries"] = True
    assert _errors(seed) == [(f"{CONTENT}/max_retries", "type")]


def test_a_fraction_is_not_an_integer(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][rules.CONTENT_EVENT]["max_retries"] = 2.5
    assert _errors(seed) == [(f"{CONTENT}/max_retries", "type")]


def test_zero_is_not_false(seed: dict[str, Any]) -> None:
    seed["capabilities"]["engagement"]["design_window"] = 0
    assert _errors(seed) == [("/capabilities/engagement/design_window", "type")]


def test_null_is_not_a_way_to_omit_a_key(seed: dict[str, Any]) -> None:
    seed["description"] = None
    [problem] = validate_document(seed).errors
    assert (problem.pointer, problem.code) == ("/description", "type")
    assert problem.hint == "leave the key out instead of null"


def test_an_unknown_key_suggests_the_closest_known_one(seed: dict[str, Any]) -> None:
    seed["capabilities"]["engagement"]["goals"] = seed["capabilities"]["engagement"].pop("goal")
    problems = validate_document(seed).errors
    assert [(p.pointer, p.code) for p in problems] == [
        ("/capabilities/engagement/goal", "required"),
        ("/capabilities/engagement/goals", "unknown_key"),
    ]
    assert problems[1].hint == "did you mean 'goal'?"


def test_an_unknown_event_type_suggests_the_right_spelling(seed: dict[str, Any]) -> None:
    webhooks = seed["capabilities"]["webhooks"]
    webhooks["ms.MessagingEventNotification.ContentEvents"] = webhooks.pop(rules.CONTENT_EVENT)
    [problem] = validate_document(seed).errors
    assert problem.code == "unknown_key"
    assert problem.hint == f"did you mean {rules.CONTENT_EVENT!r}?"


def test_an_unknown_key_inside_a_header_list_item_is_found(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][rules.CONTENT_EVENT]["headers"][0]["header_nam"] = "x"
    problems = validate_document(seed).errors
    assert (problems[-1].pointer, problems[-1].hint) == (
        f"{CONTENT}/headers/0/header_nam",
        "did you mean 'header_name'?",
    )


def test_a_value_outside_a_list_suggests_an_allowed_one(seed: dict[str, Any]) -> None:
    seed["capabilities"]["engagement"]["entry_point"] = ["sectoin"]
    [problem] = validate_document(seed).errors
    assert (problem.pointer, problem.code) == ("/capabilities/engagement/entry_point/0", "not_allowed")
    assert problem.message == "must be one of: section, url"
    assert problem.hint == "did you mean 'section'?"


def test_a_repeated_list_value_is_reported_at_its_second_position(seed: dict[str, Any]) -> None:
    seed["capabilities"]["engagement"]["goal"] = ["url", "lead", "url"]
    assert _errors(seed) == [("/capabilities/engagement/goal/2", "duplicate")]


def test_header_names_must_be_unique_ignoring_case(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][rules.CONTENT_EVENT]["headers"] = [
        {"header_name": "X-Key", "header_value": "a"},
        {"header_name": "x-key", "header_value": "b"},
    ]
    assert _errors(seed) == [(f"{CONTENT}/headers/1/header_name", "duplicate")]


def test_a_header_value_with_a_line_break_is_header_injection(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][rules.CONTENT_EVENT]["headers"][0]["header_value"] = "a\r\nX-Evil: 1"
    assert _errors(seed) == [(f"{CONTENT}/headers/0/header_value", "control_character")]


def test_a_header_the_platform_sets_cannot_be_overridden(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][rules.CONTENT_EVENT]["headers"][0]["header_name"] = "X-LivePerson-Signature"
    assert _errors(seed) == [(f"{CONTENT}/headers/0/header_name", "reserved_header")]


def test_the_client_name_is_trimmed(seed: dict[str, Any]) -> None:
    seed["client_name"] = "  My app \t"
    result = validate_document(seed)
    assert result.manifest is not None and result.manifest.client_name == "My app"


def test_the_client_name_limit_counts_characters_after_trimming(seed: dict[str, Any]) -> None:
    seed["client_name"] = "  " + "n" * 100 + "  "
    assert validate_document(seed).valid
    seed["client_name"] = "n" * 101
    assert _errors(seed) == [("/client_name", "too_long")]


def test_defaults_are_filled_in_for_a_minimal_manifest() -> None:
    result = validate_document({"client_name": "Minimal"})
    assert result.manifest is not None
    assert result.manifest.to_document() == {
        "client_name": "Minimal",
        "grant_types": ["client_credentials"],
        "scope": "msg.consumer",
    }


def test_a_webhook_without_max_retries_keeps_it_absent_and_defaults_to_no_headers(seed: dict[str, Any]) -> None:
    """Absent and 0 differ in retention mode (absent: retried for the retention time; 0: opted out)."""
    result = validate_document(seed)
    assert result.manifest is not None and result.manifest.capabilities is not None
    webhooks = result.manifest.capabilities.webhooks
    assert webhooks is not None
    chat_state = webhooks.subscriptions()[rules.CHAT_STATE_EVENT]
    assert (chat_state.max_retries, chat_state.headers) == (None, [])


def test_the_normalised_document_uses_the_platforms_key_names(seed: dict[str, Any]) -> None:
    result = validate_document(seed)
    assert result.manifest is not None
    assert result.manifest.to_document() == seed | {
        "capabilities": {
            "webhooks": {key: {"headers": []} | value for key, value in seed["capabilities"]["webhooks"].items()},
            "engagement": seed["capabilities"]["engagement"],
        }
    }


def test_the_legacy_conversation_change_key_is_renamed_with_a_warning(seed: dict[str, Any]) -> None:
    webhooks = seed["capabilities"]["webhooks"]
    webhooks[rules.LEGACY_EX_CONVERSATION_CHANGE] = webhooks.pop(rules.EX_CONVERSATION_CHANGE)
    result = validate_document(seed)
    assert result.valid
    assert [(w.pointer, w.code) for w in result.warnings] == [
        (f"{WEBHOOKS}/{rules.LEGACY_EX_CONVERSATION_CHANGE}", "deprecated_key")
    ]
    assert result.manifest is not None and result.manifest.capabilities is not None
    assert result.manifest.capabilities.webhooks is not None
    assert rules.EX_CONVERSATION_CHANGE in result.manifest.capabilities.webhooks.subscriptions()


def test_errors_under_the_legacy_key_point_into_the_document_as_written(seed: dict[str, Any]) -> None:
    webhooks = seed["capabilities"]["webhooks"]
    webhooks[rules.LEGACY_EX_CONVERSATION_CHANGE] = {"endpoint": "http://insecure.example"}
    del webhooks[rules.EX_CONVERSATION_CHANGE]
    assert _errors(seed) == [(f"{WEBHOOKS}/{rules.LEGACY_EX_CONVERSATION_CHANGE}/endpoint", "invalid_url")]


def test_both_spellings_of_the_conversation_change_key_are_a_conflict(seed: dict[str, Any]) -> None:
    webhooks = seed["capabilities"]["webhooks"]
    webhooks[rules.LEGACY_EX_CONVERSATION_CHANGE] = webhooks[rules.EX_CONVERSATION_CHANGE]
    assert _errors(seed) == [(f"{WEBHOOKS}/{rules.LEGACY_EX_CONVERSATION_CHANGE}", "duplicate")]


def test_a_document_that_is_not_an_object_is_a_type_error() -> None:
    assert _errors([]) == [("", "type")]


def test_the_retry_policy_needs_a_retention_time(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"]["retry"] = {}
    assert _errors(seed) == [(f"{WEBHOOKS}/retry/retention_time", "required")]


def test_raw_bytes_with_duplicate_keys_are_invalid() -> None:
    result = validate_manifest(b'{"client_name": "a", "client_name": "b"}')
    assert [(p.pointer, p.code) for p in result.errors] == [("/client_name", "duplicate_key")]


_CONTENT = "ms.MessagingEventNotification.ContentEvent"


def _with_endpoint(seed: dict[str, Any], endpoint: str) -> dict[str, Any]:
    seed["capabilities"]["webhooks"][_CONTENT]["endpoint"] = endpoint
    return seed


@pytest.mark.parametrize(
    "endpoint", ["http://localhost/hook", "http://localhost:9000/hook", "http://127.0.0.1:8443/", "http://[::1]:80/x"]
)
def test_a_development_server_accepts_plain_http_to_this_machine(seed: dict[str, Any], endpoint: str) -> None:
    assert validate_document(_with_endpoint(seed, endpoint), allow_local_http=True).errors == []


@pytest.mark.parametrize("endpoint", ["http://localhost/hook", "http://127.0.0.1:8443/"])
def test_otherwise_plain_http_to_this_machine_is_refused(seed: dict[str, Any], endpoint: str) -> None:
    [problem] = validate_document(_with_endpoint(seed, endpoint)).errors
    assert problem.pointer == f"/capabilities/webhooks/{_CONTENT}/endpoint"


@pytest.mark.parametrize(
    "endpoint",
    ["http://example.com/hook", "http://localhost.example.com/", "http://10.0.0.1/", "http://user@localhost/"],
)
def test_even_a_development_server_refuses_plain_http_elsewhere(seed: dict[str, Any], endpoint: str) -> None:
    assert validate_document(_with_endpoint(seed, endpoint), allow_local_http=True).errors != []
