"""What the worker makes of an installation's manifest for each claimed delivery: its routes, cached by revision."""

from __future__ import annotations

from appinstall.webhooks import claims
from appinstall.webhooks.policy import Budget

CONTENT = "ms.MessagingEventNotification.ContentEvent"


def test_the_subscription_cache_forgets_the_oldest_entry_beyond_its_capacity() -> None:
    subscriptions = claims.Subscriptions(capacity=2)
    for revision in (1, 2, 3):
        webhooks = {CONTENT: {"endpoint": f"https://example.com/{revision}"}}
        subscriptions.put("app", revision, {"capabilities": {"webhooks": webhooks}})
    assert subscriptions.get("app", 1) is None
    assert [route.endpoint for route in (subscriptions.get("app", 3) or {}).values()] == ["https://example.com/3"]


def test_routes_carry_each_types_endpoint_headers_and_budget_with_the_shared_retention() -> None:
    webhooks = {
        CONTENT: {
            "endpoint": "https://example.com/content",
            "max_retries": 3,
            "headers": [{"header_name": "X-Team", "header_value": "blue"}],
        },
        "cqm.ExConversationChangeNotification": {"endpoint": "https://example.com/conversations"},
        "retry": {"retention_time": 3600},
    }
    routes = claims.routes_of({"capabilities": {"webhooks": webhooks}})
    assert routes == {
        CONTENT: claims.Route("https://example.com/content", {"X-Team": "blue"}, Budget(3, 3600)),
        "cqm.ExConversationChangeNotification": claims.Route(
            "https://example.com/conversations", {}, Budget(None, 3600)
        ),
    }


def test_a_manifest_without_webhooks_has_no_routes() -> None:
    assert claims.routes_of({"capabilities": {}}) == {} and claims.routes_of({}) == {}
