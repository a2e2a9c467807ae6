"""An installation's routes, projected from its stored manifest: what the worker and discovery read of it."""

from __future__ import annotations

import copy
from typing import Any

from appinstall.manifest import validate_document
from appinstall.manifest.routes import Route, Routes, routes_of
from appinstall.manifest.vocabulary import CHAT_STATE_EVENT, CONTENT_EVENT, EVENT_TYPES, EX_CONVERSATION_CHANGE
from tests.conftest import SEED


def _stored(webhooks: dict[str, Any]) -> dict[str, Any]:
    return {"client_name": "app", "capabilities": {"webhooks": webhooks}}


def test_routes_carry_each_types_endpoint_headers_and_retries_with_the_shared_retention() -> None:
    webhooks = {
        CONTENT_EVENT: {
            "endpoint": "https://example.com/content",
            "max_retries": 3,
            "headers": [{"header_name": "X-Team", "header_value": "blue"}],
        },
        EX_CONVERSATION_CHANGE: {"endpoint": "https://example.com/conversations"},
        "retry": {"retention_time": 3600},
    }
    assert routes_of(_stored(webhooks)) == Routes(
        {
            CONTENT_EVENT: Route("https://example.com/content", {"X-Team": "blue"}, 3, 3600),
            EX_CONVERSATION_CHANGE: Route("https://example.com/conversations", {}, None, 3600),
        },
        3600,
    )


def test_a_webhook_without_max_retries_routes_with_none_for_the_policy_to_read() -> None:
    route = routes_of(_stored({CONTENT_EVENT: {"endpoint": "https://example.com/"}})).get(CONTENT_EVENT)
    assert route is not None and (route.max_retries, route.retention_time) == (None, None)


def test_a_manifest_without_webhooks_has_no_routes() -> None:
    assert routes_of({"capabilities": {}}) == Routes() and routes_of({}) == Routes()


def test_the_retry_policy_is_no_route() -> None:
    routes = routes_of(_stored({"retry": {"retention_time": 60}}))
    assert (routes.event_types, routes.retention_time) == ((), 60)


def test_the_routes_follow_the_vocabularys_order_whatever_the_documents() -> None:
    webhooks = {event: {"endpoint": "https://example.com/"} for event in reversed(EVENT_TYPES)}
    assert routes_of(_stored(webhooks)).event_types == EVENT_TYPES


def test_the_routes_of_the_validated_seed_are_its_subscriptions() -> None:
    result = validate_document(copy.deepcopy(SEED))
    assert result.manifest is not None and result.manifest.capabilities is not None
    subscriptions = result.manifest.capabilities.webhooks
    assert subscriptions is not None
    routes = routes_of(result.manifest.to_document())
    assert routes.event_types == tuple(subscriptions.subscriptions())
    for event, webhook in subscriptions.subscriptions().items():
        route = routes.get(event)
        assert route is not None
        assert (route.endpoint, route.max_retries) == (webhook.endpoint, webhook.max_retries)
        assert route.headers == {header.header_name: header.header_value for header in webhook.headers}
    assert routes.get(CHAT_STATE_EVENT) == Route("https://your/webhooks/endpoint")
