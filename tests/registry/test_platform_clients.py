"""The messaging platform's own installer, unchanged: its create and update payloads install and round-trip.

The payloads are built as the platform's demo connector app builds them (its app-installation form and edit
page): ``enabled`` on every create, ``logo_uri: ""`` when no logo is given, webhooks with ``headers: []`` and no
``max_retries``, ``retry.retention_time`` from its time-to-live choice, its default engagement lists; and on update,
the object it read with every field kept (``id``, ``client_secret``, ``response_types``, …) and a few changed.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio

ACCOUNT = "12345678"
BASE = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
EVENT_TYPES = (
    "ms.MessagingEventNotification.ContentEvent",
    "ms.MessagingEventNotification.RichContentEvent",
    "ms.MessagingEventNotification.AcceptStatusEvent",
    "ms.MessagingEventNotification.ChatStateEvent",
    "cqm.ExConversationChangeNotification",
)


@pytest.fixture
async def account(client: httpx.AsyncClient) -> str:
    (await client.post("/api/accounts", json={"id": ACCOUNT})).raise_for_status()
    return ACCOUNT


def installer_create(name: str, *, retention_time: int = 3600, enabled: bool = True) -> dict[str, Any]:
    """What the platform's installer POSTs: its form's values, its defaults for the rest."""
    webhooks: dict[str, Any] = {
        event: {"endpoint": "https://connector.example.com/hook", "headers": []} for event in EVENT_TYPES
    }
    if retention_time:  # the installer deletes retry when its time-to-live choice is NONE (0)
        webhooks["retry"] = {"retention_time": retention_time}
    return {
        "client_name": name,
        "description": "Installed by the platform's demo installer",
        "enabled": enabled,
        "grant_types": ["client_credentials"],
        "scope": "msg.consumer",
        "logo_uri": "",
        "capabilities": {
            "webhooks": webhooks,
            "engagement": {
                "design_engagement": False,
                "design_window": False,
                "language_selection": False,
                "entry_point": ["url", "section"],
                "visitor_behavior": [
                    "visited_location",
                    "time_on_location",
                    "flow",
                    "engaged_in_session",
                    "about_to_abandon",
                    "cart_value",
                    "cart_items",
                    "visitor_error",
                    "viewed_products",
                    "service_activity",
                ],
                "target_audience": [
                    "external_referral",
                    "search_keywords",
                    "ip",
                    "platform",
                    "geo_location",
                    "returning_visitors",
                    "marketing_source",
                    "customer_type",
                    "age",
                    "balance",
                    "customer_id",
                    "gender",
                    "store_zip_code",
                    "store_number",
                    "company_size",
                    "registration_date",
                ],
                "goal": ["url", "purchase_total", "num_of_pages", "lead", "service_activity"],
                "consumer_identity": ["auth"],
            },
        },
    }


async def test_the_installers_create_installs_and_reads_back_what_it_sent(
    client: httpx.AsyncClient, account: str
) -> None:
    sent = installer_create("Echo--Demo--")
    created = await client.post(BASE, params={"v": "1.0"}, json=sent)
    assert created.status_code == 201, created.text
    read = (await client.get(f"{BASE}/{created.json()['id']}", params={"v": "1.0"})).json()
    for key in ("client_name", "description", "enabled", "grant_types", "scope", "logo_uri", "capabilities"):
        assert read[key] == sent[key], key


async def test_enabled_false_on_create_installs_the_app_disabled(client: httpx.AsyncClient, account: str) -> None:
    created = (await client.post(BASE, json=installer_create("Quiet", enabled=False))).json()
    assert created["enabled"] is False
    listed = (await client.get(BASE, params={"enabled": "false"})).json()
    assert [item["id"] for item in listed] == [created["id"]]


async def test_the_installers_time_to_live_puts_the_installation_in_retention_mode(
    client: httpx.AsyncClient, account: str
) -> None:
    created = (await client.post(BASE, json=installer_create("Retained", retention_time=86_400))).json()
    state = (await client.get(f"{BASE}/{created['id']}/webhooks/state")).json()
    assert (state["retry_mode"], state["retention_time"], state["state"]) == ("retention", 86_400, "up")


async def test_the_installers_update_sends_back_the_whole_object_and_succeeds(
    client: httpx.AsyncClient, account: str
) -> None:
    created = (await client.post(BASE, json=installer_create("Editable"))).json()
    read = await client.get(f"{BASE}/{created['id']}", params={"v": "1.0"})
    edited = {
        **read.json(),
        "client_secret": created["client_secret"],  # the platform's read shows it; the edit page keeps it
        "response_types": ["code", "token", "id_token"],  # kept from a platform read, unknown to the edit page
        "client_name": "Edited",
        "description": "Changed in the edit page",
        "enabled": False,
    }
    del edited["capabilities"]["webhooks"]["retry"]  # its time-to-live set back to NONE
    updated = await client.put(
        f"{BASE}/{created['id']}", params={"v": "1.0"}, json=edited, headers={"If-Match": read.headers["ac-revision"]}
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["client_name"], body["enabled"], body["id"]) == ("Edited", False, created["id"])
    assert "retry" not in body["capabilities"]["webhooks"]
    assert "response_types" not in body  # accepted and ignored: the server owns it


async def test_the_installers_uninstall_removes_the_app(client: httpx.AsyncClient, account: str) -> None:
    created = (await client.post(BASE, json=installer_create("Gone soon"))).json()
    read = await client.get(f"{BASE}/{created['id']}")
    removed = await client.delete(f"{BASE}/{created['id']}", headers={"If-Match": read.headers["ac-revision"]})
    assert removed.status_code in (200, 204)
    assert [item["id"] for item in (await client.get(BASE)).json()] == []
