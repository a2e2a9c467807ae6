"""The validator and the published JSON Schema must accept and reject the same documents.

Integrators validate manifests with the schema in their editors and CI; the platform validates them with
``validate_document``. If the two disagreed, a manifest could pass locally and fail on upload (or, worse, the
reverse). Each corpus case is therefore checked against both, separately, so a failure names the side that is
wrong. The few rules JSON Schema cannot express are pinned down in their own tests at the end of this module,
stating what each side does, so that the divergence stays known and deliberate.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from appinstall import validate_document
from appinstall.manifest.schema import manifest_schema
from tests.manifest.corpus import (
    CASES,
    EX_CONVERSATION_CHANGE,
    HEADERS,
    LEGACY_EX_CONVERSATION_CHANGE,
    MAX_RETRIES,
    RETRY,
    Case,
    header,
    mutated,
    seed,
    setting,
)

CORPUS = [pytest.param(case.document, case.expected_valid, id=case.name) for case in CASES]


@pytest.fixture(scope="module")
def schema_validator() -> Draft202012Validator:
    return Draft202012Validator(manifest_schema())


def test_corpus_case_names_are_unique() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))


def test_corpus_holds_both_valid_and_invalid_documents() -> None:
    verdicts = {case.expected_valid for case in CASES}
    assert verdicts == {True, False}


@pytest.mark.parametrize(("document", "expected_valid"), CORPUS)
def test_validator_gives_the_expected_verdict(document: Any, expected_valid: bool) -> None:
    result = validate_document(document)
    assert result.valid == expected_valid, result.errors


@pytest.mark.parametrize(("document", "expected_valid"), CORPUS)
def test_schema_gives_the_expected_verdict(
    schema_validator: Draft202012Validator, document: Any, expected_valid: bool
) -> None:
    errors = [f"{error.json_path}: {error.message}" for error in schema_validator.iter_errors(document)]
    assert schema_validator.is_valid(document) == expected_valid, errors


def test_legacy_conversation_change_key_alone_is_accepted_with_a_deprecation_warning() -> None:
    document = seed()
    webhooks = document["capabilities"]["webhooks"]
    webhooks[LEGACY_EX_CONVERSATION_CHANGE] = webhooks.pop(EX_CONVERSATION_CHANGE)

    result = validate_document(document)

    assert result.valid
    assert [(warning.pointer, warning.code) for warning in result.warnings] == [
        (f"/capabilities/webhooks/{LEGACY_EX_CONVERSATION_CHANGE}", "deprecated_key")
    ]


# --- Documented divergences: rules the validator enforces that JSON Schema cannot express -----------------------
#
# Each test asserts the validator's verdict (the rule) and the schema's (the known gap). If the schema ever
# starts refusing these documents, the second assertion fails: the divergence is gone and the case belongs in the
# corpus instead.

INTEGER_VALUED_FLOATS = [
    pytest.param(mutated(setting(MAX_RETRIES, 3.0)), id="max_retries_3.0"),
    pytest.param(mutated(setting(MAX_RETRIES, 0.0)), id="max_retries_0.0"),
    pytest.param(mutated(setting(RETRY, {"retention_time": 60.0})), id="retention_time_60.0"),
    pytest.param(mutated(setting(RETRY, {"retention_time": 259200.0})), id="retention_time_259200.0"),
]


@pytest.mark.parametrize("document", INTEGER_VALUED_FLOATS)
def test_integer_valued_float_is_rejected_by_the_validator(document: dict[str, Any]) -> None:
    result = validate_document(document)

    assert not result.valid
    assert [error.code for error in result.errors] == ["type"]


@pytest.mark.parametrize("document", INTEGER_VALUED_FLOATS)
def test_integer_valued_float_is_accepted_by_the_schema_which_counts_it_as_an_integer(
    schema_validator: Draft202012Validator, document: dict[str, Any]
) -> None:
    """JSON Schema defines ``integer`` by value ("a number with a zero fractional part"), so 3.0 is an integer."""
    assert schema_validator.is_valid(document)


DUPLICATE_HEADER_NAMES = [
    pytest.param([header("X-Api-Key", "1"), header("x-api-key", "2")], id="names_differing_only_in_case"),
    pytest.param([header("X-Api-Key", "1"), header("X-API-KEY", "1")], id="names_differing_only_in_case_same_value"),
    pytest.param([header("X-Api-Key", "1"), header("X-Api-Key", "2")], id="equal_names_different_values"),
]


@pytest.mark.parametrize("headers", DUPLICATE_HEADER_NAMES)
def test_header_names_repeated_ignoring_case_are_rejected_by_the_validator(headers: list[dict[str, str]]) -> None:
    result = validate_document(mutated(setting(HEADERS, headers)))

    assert not result.valid
    assert [(error.pointer, error.code) for error in result.errors] == [
        ("/capabilities/webhooks/ms.MessagingEventNotification.ContentEvent/headers/1/header_name", "duplicate")
    ]


@pytest.mark.parametrize("headers", DUPLICATE_HEADER_NAMES)
def test_header_names_repeated_ignoring_case_are_accepted_by_the_schema(
    schema_validator: Draft202012Validator, headers: list[dict[str, str]]
) -> None:
    """``uniqueItems`` compares whole items, case-sensitively; it cannot say "unique by one property, any case"."""
    assert schema_validator.is_valid(mutated(setting(HEADERS, headers)))


@pytest.mark.parametrize("case", [case for case in CASES if not case.expected_valid], ids=lambda case: case.name)
def test_every_error_of_an_invalid_document_says_how_to_fix_it(case: Case) -> None:
    errors = validate_document(case.document).errors
    assert errors and all(error.hint for error in errors), errors
