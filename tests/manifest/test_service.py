from typing import Any

import pytest

from appinstall import validate_document, validate_manifest
from appinstall.manifest import rules, vocabulary
from appinstall.registry.models import SERVER_FIELDS
from tests.conftest import SEED_BYTES

WEBHOOKS = "/capabilities/webhooks"
CONTENT = f"{WEBHOOKS}/{vocabulary.CONTENT_EVENT}"


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
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["max_retries"] = 9
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
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["max_retries"] = "3"
    [problem] = validate_document(seed).errors
    assert (problem.code, problem.message) == ("type", "must be an integer")
    assert problem.hint == "write the number without quotes: 3"


def test_a_boolean_is_not_an_integer(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["max_retries"] = True
    assert _errors(seed) == [(f"{CONTENT}/max_retries", "type")]


def test_a_fraction_is_not_an_integer(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["max_retries"] = 2.5
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
    webhooks["ms.MessagingEventNotification.ContentEvents"] = webhooks.pop(vocabulary.CONTENT_EVENT)
    [problem] = validate_document(seed).errors
    assert problem.code == "unknown_key"
    assert problem.hint == f"did you mean {vocabulary.CONTENT_EVENT!r}?"


def test_an_unknown_key_inside_a_header_list_item_is_found(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["headers"][0]["header_nam"] = "x"
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
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["headers"] = [
        {"header_name": "X-Key", "header_value": "a"},
        {"header_name": "x-key", "header_value": "b"},
    ]
    assert _errors(seed) == [(f"{CONTENT}/headers/1/header_name", "duplicate")]


def test_a_header_value_with_a_line_break_is_header_injection(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["headers"][0]["header_value"] = "a\r\nX-Evil: 1"
    assert _errors(seed) == [(f"{CONTENT}/headers/0/header_value", "control_character")]


def test_a_header_the_platform_sets_cannot_be_overridden(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["headers"][0]["header_name"] = "X-LivePerson-Signature"
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
    chat_state = webhooks.subscriptions()[vocabulary.CHAT_STATE_EVENT]
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
    webhooks[vocabulary.LEGACY_EX_CONVERSATION_CHANGE] = webhooks.pop(vocabulary.EX_CONVERSATION_CHANGE)
    result = validate_document(seed)
    assert result.valid
    assert [(w.pointer, w.code) for w in result.warnings] == [
        (f"{WEBHOOKS}/{vocabulary.LEGACY_EX_CONVERSATION_CHANGE}", "deprecated_key")
    ]
    assert result.manifest is not None and result.manifest.capabilities is not None
    assert result.manifest.capabilities.webhooks is not None
    assert vocabulary.EX_CONVERSATION_CHANGE in result.manifest.capabilities.webhooks.subscriptions()


def test_errors_under_the_legacy_key_point_into_the_document_as_written(seed: dict[str, Any]) -> None:
    webhooks = seed["capabilities"]["webhooks"]
    webhooks[vocabulary.LEGACY_EX_CONVERSATION_CHANGE] = {"endpoint": "http://insecure.example"}
    del webhooks[vocabulary.EX_CONVERSATION_CHANGE]
    assert _errors(seed) == [(f"{WEBHOOKS}/{vocabulary.LEGACY_EX_CONVERSATION_CHANGE}/endpoint", "invalid_url")]


def test_both_spellings_of_the_conversation_change_key_are_a_conflict(seed: dict[str, Any]) -> None:
    webhooks = seed["capabilities"]["webhooks"]
    webhooks[vocabulary.LEGACY_EX_CONVERSATION_CHANGE] = webhooks[vocabulary.EX_CONVERSATION_CHANGE]
    assert _errors(seed) == [(f"{WEBHOOKS}/{vocabulary.LEGACY_EX_CONVERSATION_CHANGE}", "duplicate")]


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


# --- Errors that say how to fix them (issue 13) ---------------------------------------------------------------


def test_an_unknown_event_type_lists_the_five_and_explains_typing(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"]["ms.MessagingEventNotification.TypingEvent"] = {"endpoint": "https://a.example"}
    [problem] = validate_document(seed).errors
    assert (problem.pointer, problem.code) == (f"{WEBHOOKS}/ms.MessagingEventNotification.TypingEvent", "unknown_key")
    assert all(event in problem.message for event in vocabulary.EVENT_TYPES)
    assert problem.hint is not None
    assert vocabulary.CHAT_STATE_EVENT in problem.hint and "ContentEvent" not in problem.hint


def test_a_misspelt_retry_key_under_webhooks_suggests_retry(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"]["retyr"] = {"retention_time": 60}
    [problem] = validate_document(seed).errors
    assert (problem.message, problem.hint) == ("'retyr' is not a known key here", "did you mean 'retry'?")


@pytest.mark.parametrize(
    ("path", "correct", "misspelt", "below"),
    [
        (("capabilities",), "webhooks", "webhoks", f"/{vocabulary.CONTENT_EVENT}/max_retries"),
        ((), "capabilities", "capabilitis", f"/webhooks/{vocabulary.CONTENT_EVENT}/max_retries"),
        (("capabilities", "webhooks"), vocabulary.CONTENT_EVENT, f"{vocabulary.CONTENT_EVENT}s", "/max_retries"),
    ],
)
def test_a_misspelt_parent_still_has_its_contents_checked_at_the_misspelt_path(
    seed: dict[str, Any], path: tuple[str, ...], correct: str, misspelt: str, below: str
) -> None:
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["max_retries"] = 9
    parent = seed
    for key in path:
        parent = parent[key]
    parent[misspelt] = parent.pop(correct)
    where = "".join(f"/{key}" for key in path) + f"/{misspelt}"
    assert _errors(seed) == [(where, "unknown_key"), (where + below, "too_large")]


def test_a_misspelt_engagement_reports_its_missing_and_wrong_values(seed: dict[str, Any]) -> None:
    engagement = seed["capabilities"].pop("engagement")
    engagement["goal"] = ["world_peace"]
    del engagement["entry_point"]
    seed["capabilities"]["engagment"] = engagement
    assert _errors(seed) == [
        ("/capabilities/engagment", "unknown_key"),
        ("/capabilities/engagment/entry_point", "required"),
        ("/capabilities/engagment/goal/0", "not_allowed"),
    ]


def test_an_unknown_key_with_no_close_match_is_not_checked_as_anything(seed: dict[str, Any]) -> None:
    seed["capabilities"]["unexpected"] = {"max_retries": 9}
    assert _errors(seed) == [("/capabilities/unexpected", "unknown_key")]


def test_too_many_retries_points_to_the_retention_time(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["max_retries"] = 9
    [problem] = validate_document(seed).errors
    assert problem.hint == "0 to 5; for longer retries use retry.retention_time"


def test_a_whole_number_written_as_a_float_gets_the_integer_to_write(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["max_retries"] = 3.0
    [problem] = validate_document(seed).errors
    assert (problem.code, problem.hint) == ("type", "write a whole number: 3")


@pytest.mark.parametrize("retention_time", [1, 259201])
def test_a_retention_time_out_of_range_says_three_days_at_most(seed: dict[str, Any], retention_time: int) -> None:
    seed["capabilities"]["webhooks"]["retry"] = {"retention_time": retention_time}
    [problem] = validate_document(seed).errors
    assert problem.hint is not None and "2 to 259200 seconds" in problem.hint and "3 days at most" in problem.hint


def test_too_many_headers_says_how_many_to_remove(seed: dict[str, Any]) -> None:
    headers = [{"header_name": f"X-{i}", "header_value": "v"} for i in range(22)]
    seed["capabilities"]["webhooks"][vocabulary.CONTENT_EVENT]["headers"] = headers
    [problem] = validate_document(seed).errors
    assert (problem.code, problem.hint) == ("too_many", "remove 2 of the 22 items, to keep 20 at most")


def test_a_required_key_hint_says_what_the_key_is_for(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"]["retry"] = {}
    [problem] = validate_document(seed).errors
    assert problem.hint is not None and problem.hint.startswith("add 'retention_time': Seconds")


def test_plain_http_to_this_machine_names_development_mode(seed: dict[str, Any]) -> None:
    [problem] = validate_document(_with_endpoint(seed, "http://localhost:9000/hook")).errors
    assert "accepted only in development" in problem.message
    assert problem.hint is not None and "appinstall validate --dev" in problem.hint


@pytest.mark.parametrize("endpoint", ["https://localhost/hook", "https://127.0.0.1:8443/", "https://10.0.0.5/x"])
def test_an_https_endpoint_on_a_local_address_is_valid_with_a_warning(seed: dict[str, Any], endpoint: str) -> None:
    result = validate_document(_with_endpoint(seed, endpoint))
    assert result.valid
    assert [(w.pointer, w.code) for w in result.warnings] == [(f"{CONTENT}/endpoint", "unreachable_endpoint")]


def test_a_warning_about_an_endpoint_under_the_legacy_key_points_there(seed: dict[str, Any]) -> None:
    webhooks = seed["capabilities"]["webhooks"]
    del webhooks[vocabulary.EX_CONVERSATION_CHANGE]
    webhooks[vocabulary.LEGACY_EX_CONVERSATION_CHANGE] = {"endpoint": "https://192.168.1.2/hook"}
    warnings = validate_document(seed).warnings
    assert [w.pointer for w in warnings] == [
        f"{WEBHOOKS}/{vocabulary.LEGACY_EX_CONVERSATION_CHANGE}/endpoint",
        f"{WEBHOOKS}/{vocabulary.LEGACY_EX_CONVERSATION_CHANGE}",
    ]


def test_a_development_validation_does_not_warn_about_loopback(seed: dict[str, Any]) -> None:
    assert validate_document(_with_endpoint(seed, "http://127.0.0.1:9000/"), allow_local_http=True).warnings == []


def test_an_empty_logo_uri_means_no_logo_and_is_kept(seed: dict[str, Any]) -> None:
    seed["logo_uri"] = ""
    result = validate_document(seed)
    assert result.manifest is not None and result.manifest.to_document()["logo_uri"] == ""


def test_an_editors_schema_key_is_accepted_and_dropped(seed: dict[str, Any]) -> None:
    seed["$schema"] = "https://appinstall.dev/schemas/manifest.schema.json"
    result = validate_document(seed)
    assert result.valid and result.warnings == []
    assert result.manifest is not None and "$schema" not in result.manifest.to_document()


def test_server_fields_echoed_from_a_read_are_warnings_not_errors(seed: dict[str, Any]) -> None:
    seed |= {"id": "abc", "client_secret": "s3cret", "enabled": True, "response_types": []}
    result = validate_document(seed)
    assert result.valid
    assert [(w.pointer, w.code) for w in result.warnings] == [
        ("/id", "server_field"),
        ("/client_secret", "server_field"),
        ("/enabled", "server_field"),
        ("/response_types", "server_field"),
    ]
    assert result.warnings[0].message == "is set by the server; ignored in a manifest"
    assert result.manifest is not None and "id" not in result.manifest.to_document()


def test_warnings_never_repeat_a_secret(seed: dict[str, Any]) -> None:
    seed["client_secret"] = "s3cret-value"
    assert all("s3cret-value" not in str(w.to_dict()) for w in validate_document(seed).warnings)


def test_the_registry_strips_the_same_server_fields_the_validator_warns_about() -> None:
    assert SERVER_FIELDS is rules.SERVER_FIELDS


def test_an_explicit_max_retries_0_is_kept_in_the_normalised_document(seed: dict[str, Any]) -> None:
    seed["capabilities"]["webhooks"][vocabulary.CHAT_STATE_EVENT]["max_retries"] = 0
    result = validate_document(seed)
    assert result.manifest is not None
    document = result.manifest.to_document()
    assert document["capabilities"]["webhooks"][vocabulary.CHAT_STATE_EVENT]["max_retries"] == 0
    assert "max_retries" not in document["capabilities"]["webhooks"][vocabulary.EX_CONVERSATION_CHANGE]
