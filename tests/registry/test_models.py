"""What the registry keeps of a manifest besides the document: its capability rows and its routes."""

from __future__ import annotations

from typing import Any

from appinstall.manifest.routes import routes_of
from appinstall.manifest.vocabulary import CONTENT_EVENT, EX_CONVERSATION_CHANGE
from appinstall.registry.models import WEBHOOK_KIND, Installation, capability_rows

MANIFEST: dict[str, Any] = {
    "client_name": "app",
    "capabilities": {
        "webhooks": {
            CONTENT_EVENT: {"endpoint": "https://example.com/content", "max_retries": 2},
            EX_CONVERSATION_CHANGE: {"endpoint": "https://example.com/conversations"},
            "retry": {"retention_time": 60},
        },
        "engagement": {"entry_point": ["section"], "goal": ["lead", "url"], "language_selection": False},
    },
}


def test_an_app_is_discovered_by_each_event_type_it_subscribes_to_and_each_engagement_value() -> None:
    assert capability_rows(MANIFEST) == [
        (WEBHOOK_KIND, CONTENT_EVENT),
        (WEBHOOK_KIND, EX_CONVERSATION_CHANGE),
        ("entry_point", "section"),
        ("goal", "lead"),
        ("goal", "url"),
    ]


def test_a_manifest_without_capabilities_has_no_capability_rows() -> None:
    assert capability_rows({"client_name": "app"}) == []


def test_an_installation_carries_the_routes_of_its_manifest() -> None:
    installation = Installation("app", "acct", MANIFEST, True, False, 1, 0, 0, 0)
    assert installation.routes == routes_of(MANIFEST)
    assert installation.routes is installation.routes  # projected once
