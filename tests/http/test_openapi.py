"""The published OpenAPI document names each route's credentials and real errors, and never a 422."""

from __future__ import annotations

from typing import Any

import pytest

from appinstall.app import create_app
from appinstall.http.openapi import matching_rules
from appinstall.settings import Settings
from tests.conftest import TEST_MASTER_KEY

INSTALLATION = "/api/account/{account_id}/configuration/app-install/installations/{installation_id}"
SEND = "/api/account/{account_id}/messaging/consumer/conversation/send"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings(master_key=TEST_MASTER_KEY)).openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_the_document_has_the_security_schemes(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["adminKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["adminKey"]["description"],
    }
    assert schemes["clientSecretBasic"]["scheme"] == "basic"
    assert (schemes["appJwt"]["in"], schemes["appJwt"]["name"]) == ("header", "Authorization")
    assert (schemes["consumerJws"]["in"], schemes["consumerJws"]["name"]) == ("header", "X-LP-ON-BEHALF")


def test_no_operation_lists_a_422(document: dict[str, Any]) -> None:
    assert [(method, path) for method, path, op in operations(document) if "422" in op["responses"]] == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_operation_says_which_credentials_it_takes(document: dict[str, Any]) -> None:
    assert [(method, path) for method, path, op in operations(document) if "security" not in op] == []


def test_public_routes_take_no_credentials(document: dict[str, Any]) -> None:
    for path in (
        "/healthz",
        "/readyz",
        "/metrics",
        "/.well-known/jwks.json",
        "/api/account/{account_id}/service/baseURI.json",
    ):
        assert document["paths"][path]["get"]["security"] == []


def test_each_route_family_takes_its_own_credentials(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert paths[INSTALLATION]["put"]["security"] == [{"adminKey": []}]
    assert paths["/oauth2/token"]["post"]["security"] == [{"clientSecretBasic": []}, {}]
    assert paths["/api/account/{account_id}/consumer"]["post"]["security"] == [{"appJwt": []}]
    assert paths[SEND]["post"]["security"] == [{"appJwt": [], "consumerJws": []}]


def test_every_operation_answers_invalid_input_and_store_unavailable_as_problems(document: dict[str, Any]) -> None:
    for _, _, op in operations(document):
        for status in ("400", "503"):
            assert "application/problem+json" in op["responses"][status]["content"]


def test_a_conditional_replace_lists_its_preconditions(document: dict[str, Any]) -> None:
    assert {"400", "401", "404", "409", "412", "413", "415", "428"} <= set(
        document["paths"][INSTALLATION]["put"]["responses"]
    )


def test_the_token_endpoint_answers_errors_in_the_oauth_shape(document: dict[str, Any]) -> None:
    responses = document["paths"]["/oauth2/token"]["post"]["responses"]
    assert responses["401"]["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}
    assert "415" not in responses  # a form route: a body of another type is an invalid_request


def test_the_send_api_answers_errors_in_the_platforms_envelope(document: dict[str, Any]) -> None:
    responses = document["paths"][SEND]["post"]["responses"]
    assert responses["401"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/PlatformError"}}
    }


def test_routes_that_read_their_body_by_hand_describe_it(document: dict[str, Any]) -> None:
    consumer = document["paths"]["/api/account/{account_id}/consumer"]["post"]["requestBody"]
    assert consumer["content"]["application/json"]["schema"]["required"] == ["ext_consumer_id"]
    send = document["paths"][SEND]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert len(send["anyOf"]) == 2
    notification = document["paths"]["/api/account/{account_id}/notifications"]["post"]["requestBody"]
    assert len(notification["content"]["application/json"]["schema"]["oneOf"]) == 2


def test_security_comes_from_the_last_matching_rule_that_names_it() -> None:
    matched = matching_rules("post", "/api/account/{account_id}/consumer")
    assert [rule.security for rule in matched if rule.security is not None] == [({"appJwt": []},)]


def test_the_platforms_idp_path_lists_only_the_platforms_errors_for_credentials(document: dict[str, Any]) -> None:
    responses = document["paths"]["/api/account/{account_id}/consumer"]["post"]["responses"]
    assert list(responses["401"]["content"]) == ["application/json"]
    assert "404" not in responses


def test_checked_parameters_say_what_the_route_accepts(document: dict[str, Any]) -> None:
    deliveries = {p["name"]: p["schema"] for p in document["paths"][INSTALLATION + "/deliveries"]["get"]["parameters"]}
    assert "ContentEvent" in deliveries["event_type"]["enum"]
    assert deliveries["since"]["anyOf"][0]["pattern"] == "^[0-9]{1,14}$"
    assert deliveries["account_id"]["pattern"].startswith("^[A-Za-z0-9]")


def test_a_repeatable_filter_checks_each_value(document: dict[str, Any]) -> None:
    listing = document["paths"]["/api/installations"]["get"]["parameters"]
    [event_type] = [p["schema"] for p in listing if p["name"] == "event_type"]
    assert event_type["type"] == "array"
    assert "ContentEvent" in event_type["items"]["enum"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_replace_or_patch_requires_if_match(document: dict[str, Any], method: str) -> None:
    [if_match] = [p for p in document["paths"][INSTALLATION][method]["parameters"] if p["name"] == "If-Match"]
    assert if_match["required"] is True


def test_a_delete_takes_if_match_as_optional(document: dict[str, Any]) -> None:
    [if_match] = [p for p in document["paths"][INSTALLATION]["delete"]["parameters"] if p["name"] == "If-Match"]
    assert if_match["required"] is False


def test_the_batch_publish_takes_an_array_of_notifications(document: dict[str, Any]) -> None:
    batch = document["paths"]["/api/account/{account_id}/notifications:batch"]["post"]
    schema = batch["requestBody"]["content"]["application/json"]["schema"]
    assert (schema["type"], schema["minItems"], schema["maxItems"]) == ("array", 1, 1000)
    assert len(schema["items"]["oneOf"]) == 2
    assert batch["security"] == [{"adminKey": []}]
