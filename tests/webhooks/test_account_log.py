"""The account's delivery log across its installations (``account_log``): a page newest first, what came after a
cursor, and where watched deliveries stand, each kept to the account."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

from appinstall.errors import Invalid
from appinstall.store import Store
from appinstall.webhooks import service
from appinstall.webhooks.account_log import MAX_WATCHED, SETTLE_MS
from appinstall.webhooks.service import DeliveryFilter
from tests.webhooks.flow import ACCOUNT, CONTENT, JSON_TYPE, install, message, publish
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio

OTHER = "other-account"


def store_of(app: FastAPI) -> Store:
    store: Store = app.state.store
    return store


async def publish_elsewhere(client: httpx.AsyncClient, receiver: Receiver, conversation: str) -> str:
    """A delivery of another account, to an installation of its own."""
    (await client.post("/api/accounts", json={"id": OTHER})).raise_for_status()
    manifest = {
        "client_name": "elsewhere",
        "grant_types": ["client_credentials"],
        "scope": "msg.consumer",
        "capabilities": {"webhooks": {CONTENT: {"endpoint": receiver.url("/other"), "max_retries": 0}}},
    }
    made = await client.post(f"/api/account/{OTHER}/configuration/app-install/installations", json=manifest)
    assert made.status_code == 201, made.text
    answer = await client.post(
        f"/api/account/{OTHER}/notifications", content=json.dumps(message(conversation, "hi")), headers=JSON_TYPE
    )
    assert answer.status_code == 202
    delivery_id: str = answer.json()["deliveries"][0]["id"]
    return delivery_id


async def test_the_accounts_deliveries_of_every_installation_come_newest_first_and_no_others(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver, path="/one")
    await install(client, receiver, path="/two")
    first = [item["id"] for item in await publish(client, message("c-1", "hi"))]
    theirs = await publish_elsewhere(client, receiver, "c-1")
    second = [item["id"] for item in await publish(client, message("c-2", "hi"))]
    page = await service.list_account_deliveries(store_of(app), ACCOUNT, DeliveryFilter())
    assert [item.id for item in page.items] == list(reversed(second)) + list(reversed(first))
    assert theirs not in [item.id for item in page.items]


async def test_a_page_continues_from_its_older_cursor_without_repeating_or_skipping(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver)
    ids = [(await publish(client, message(f"c-{number}", "hi")))[0]["id"] for number in range(5)]
    store = store_of(app)
    first = await service.list_account_deliveries(store, ACCOUNT, DeliveryFilter(), limit=3)
    assert first.older is not None
    second = await service.list_account_deliveries(store, ACCOUNT, DeliveryFilter(), cursor=first.older, limit=3)
    assert [item.id for item in first.items + second.items] == list(reversed(ids))
    assert second.older is None


async def test_an_installation_of_another_account_is_an_invalid_filter(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await publish_elsewhere(client, receiver, "c-1")
    [theirs] = (await client.get(f"/api/account/{OTHER}/configuration/app-install/installations")).json()
    with pytest.raises(Invalid):
        await service.list_account_deliveries(store_of(app), ACCOUNT, DeliveryFilter(installation_id=theirs["id"]))


async def test_what_came_after_a_page_is_read_from_its_newest_cursor_and_then_nothing_again(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver)
    await publish(client, message("c-0", "hi"))
    store = store_of(app)
    page = await service.list_account_deliveries(store, ACCOUNT, DeliveryFilter())
    later = [(await publish(client, message(f"c-{number}", "hi")))[0]["id"] for number in range(1, 4)]
    await publish_elsewhere(client, receiver, "c-9")
    first = await service.deliveries_after(store, ACCOUNT, DeliveryFilter(), page.newest, limit=2)
    rest = await service.deliveries_after(store, ACCOUNT, DeliveryFilter(), first.newest, limit=2)
    assert [item.id for item in rest.items + first.items][:3] == list(reversed(later))  # c-0 follows: not settled
    _settle(store)
    settled = await service.deliveries_after(store, ACCOUNT, DeliveryFilter(), rest.newest)
    done = await service.deliveries_after(store, ACCOUNT, DeliveryFilter(), settled.newest)
    assert done.items == []


def _settle(store: Store) -> None:
    """Let time pass beyond ``SETTLE_MS``: what was written is then surely committed."""
    later = store.clock() + SETTLE_MS + 1
    store.clock = lambda: later


async def test_a_live_cursor_does_not_pass_a_delivery_that_may_not_be_committed_yet(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver)
    store = store_of(app)
    page = await service.list_account_deliveries(store, ACCOUNT, DeliveryFilter())
    [fresh] = await publish(client, message("c-1", "hi"))
    first = await service.deliveries_after(store, ACCOUNT, DeliveryFilter(), page.newest)
    again = await service.deliveries_after(store, ACCOUNT, DeliveryFilter(), first.newest)
    assert [item.id for item in first.items] == [item.id for item in again.items] == [fresh["id"]]
    _settle(store)
    settled = await service.deliveries_after(store, ACCOUNT, DeliveryFilter(), again.newest)
    assert (await service.deliveries_after(store, ACCOUNT, DeliveryFilter(), settled.newest)).items == []


async def test_what_came_after_keeps_to_the_filters(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver)
    store = store_of(app)
    page = await service.list_account_deliveries(store, ACCOUNT, DeliveryFilter())
    await publish(client, message("c-skip", "hi"))
    [wanted] = await publish(client, message("c-keep", "hi"))
    after = await service.deliveries_after(store, ACCOUNT, DeliveryFilter(conversation_id="c-keep"), page.newest)
    assert [item.id for item in after.items] == [wanted["id"]]


async def test_current_states_read_only_the_accounts_deliveries(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver)
    [mine] = await publish(client, message("c-1", "hi"))
    theirs = await publish_elsewhere(client, receiver, "c-1")
    states = await service.current_states(store_of(app), ACCOUNT, [mine["id"], theirs, "no-such-delivery"])
    assert [state.id for state in states] == [mine["id"]]


async def test_current_states_refuse_more_than_a_page_can_show(app: FastAPI) -> None:
    with pytest.raises(Invalid):
        await service.current_states(store_of(app), ACCOUNT, [f"d-{number}" for number in range(MAX_WATCHED + 1)])
