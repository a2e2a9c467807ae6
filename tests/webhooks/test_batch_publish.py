"""Batch publish, on SQLite and PostgreSQL: many notifications in one transaction, all or nothing.

The service (``publish_batch``) is called on the app's own store for what is stored; the route
(``POST …/notifications:batch``) for what a client is answered.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from appinstall.errors import Invalid
from appinstall.store import Store
from appinstall.webhooks.batch import MAX_BATCH, publish_batch
from appinstall.webhooks.tables import deliveries, notifications
from tests.webhooks.flow import ACCOUNT, CHAT_STATE, CONTENT, JSON_TYPE, install, message, settled
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio

BATCH = f"/api/account/{ACCOUNT}/notifications:batch"


def chat_state(conversation: str) -> dict[str, Any]:
    document = message(conversation, "")
    document["body"]["changes"][0]["event"] = {"type": "ChatStateEvent", "chatState": "COMPOSING"}
    return document


def not_a_notification() -> dict[str, Any]:
    return {"kind": "notification", "type": "ms.MessagingEventNotification", "body": {"changes": []}}


async def stored(store: Store) -> tuple[int, int]:
    """How many notifications and deliveries the store holds."""
    async with store.read() as connection:
        return (
            await connection.scalar(select(func.count()).select_from(notifications)) or 0,
            await connection.scalar(select(func.count()).select_from(deliveries)) or 0,
        )


def store_of(app: FastAPI) -> Store:
    store: Store = app.state.store
    return store


async def post_batch(client: httpx.AsyncClient, documents: Any, **params: str) -> httpx.Response:
    return await client.post(BATCH, content=json.dumps(documents), headers=JSON_TYPE, params=params)


# --- The service -----------------------------------------------------------------------------------------------


async def test_each_notification_gets_its_own_deliveries_in_the_order_sent(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver, events=(CONTENT,))
    published = await publish_batch(
        store_of(app), ACCOUNT, [message("c1", "one"), chat_state("c2"), message("c3", "three")]
    )
    assert [[(d.installation_id, d.conversation_id) for d in made] for made in published] == [
        [(installed["id"], "c1")],
        [],
        [(installed["id"], "c3")],
    ]


async def test_a_notification_split_in_two_answers_both_parts_under_its_index(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver, events=(CONTENT,))
    split = message("c1", "one")
    split["body"]["changes"].append(message("c2", "two")["body"]["changes"][0])
    published = await publish_batch(store_of(app), ACCOUNT, [split, message("c3", "three")])
    assert [[d.conversation_id for d in made] for made in published] == [["c1", "c2"], ["c3"]]


async def test_a_bad_notification_anywhere_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver)
    with pytest.raises(Invalid):
        await publish_batch(store_of(app), ACCOUNT, [message("c1", "one"), message("c2", "two"), not_a_notification()])
    assert await stored(store_of(app)) == (0, 0)


async def test_the_problems_name_every_bad_notification_by_index_and_pointer(app: FastAPI, account: str) -> None:
    documents = [not_a_notification(), message("c1", "fine"), "text", message("c" * 101, "long")]
    with pytest.raises(Invalid) as refused:
        await publish_batch(store_of(app), ACCOUNT, documents)
    assert [problem.pointer for problem in refused.value.problems] == ["/0/body/changes", "/2", "/3/body/changes"]
    assert refused.value.detail == "3 of the 4 notifications are not in the platform's envelope; none was published"


async def test_a_conversation_id_over_the_limit_is_named_with_the_limit(app: FastAPI, account: str) -> None:
    with pytest.raises(Invalid) as refused:
        await publish_batch(store_of(app), ACCOUNT, [message("c" * 101, "long")])
    [problem] = refused.value.problems
    assert (problem.pointer, problem.code) == ("/0/body/changes", "maxLength")
    assert "at most 100 characters" in problem.message


async def test_an_empty_batch_is_refused(app: FastAPI, account: str) -> None:
    with pytest.raises(Invalid) as refused:
        await publish_batch(store_of(app), ACCOUNT, [])
    assert (refused.value.kind, refused.value.detail) == (
        "invalid-batch",
        "the batch is empty: send 1 to 1000 notifications",
    )


async def test_a_batch_over_the_limit_is_refused_naming_the_limit(app: FastAPI, account: str) -> None:
    with pytest.raises(Invalid) as refused:
        await publish_batch(store_of(app), ACCOUNT, [message(f"c{i}", "x") for i in range(MAX_BATCH + 1)])
    assert refused.value.detail == "a batch holds at most 1000 notifications and this one has 1001: split it"
    assert await stored(store_of(app)) == (0, 0)


async def test_a_batch_that_is_not_an_array_is_refused(app: FastAPI, account: str) -> None:
    with pytest.raises(Invalid) as refused:
        await publish_batch(store_of(app), ACCOUNT, message("c1", "one"))
    assert (refused.value.kind, refused.value.detail) == (
        "invalid-batch",
        "the body must be a JSON array of notifications",
    )


# --- The route -------------------------------------------------------------------------------------------------


async def test_the_route_answers_202_with_each_notifications_deliveries(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver)
    response = await post_batch(client, [message("c1", "one"), chat_state("c2")])
    assert response.status_code == 202, response.text
    [first, second] = response.json()["notifications"]
    assert [(d["installation_id"], d["status"]) for d in first["deliveries"]] == [(installed["id"], "pending")]
    assert second == {"deliveries": []}


async def test_a_batch_is_delivered_in_order_within_a_conversation(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver)
    response = await post_batch(client, [message("c1", text) for text in ("one", "two", "three")])
    assert response.status_code == 202, response.text
    await settled(client, installed["id"], 3)
    assert [json.loads(r.body)["body"]["changes"][0]["event"]["message"] for r in receiver.received] == [
        "one",
        "two",
        "three",
    ]


async def test_a_refused_batch_is_a_problem_detail_with_every_pointer(client: httpx.AsyncClient, account: str) -> None:
    response = await post_batch(client, [message("c1", "fine"), {"kind": "notification"}])
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/invalid-notification")
    assert {"/1/type", "/1/body/changes"} == {error["pointer"] for error in problem["errors"]}


async def test_a_body_that_is_not_json_is_refused(client: httpx.AsyncClient, account: str) -> None:
    response = await client.post(BATCH, content=b"[{", headers=JSON_TYPE)
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-batch")


async def test_a_thousand_typical_notifications_fit_in_one_request(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver)
    body = json.dumps([message(f"conversation-{i}", f"message number {i}") for i in range(MAX_BATCH)])
    assert len(body) > 65_536  # more than any other route takes
    response = await client.post(BATCH, content=body, headers=JSON_TYPE)
    assert response.status_code == 202, response.text
    assert [len(n["deliveries"]) for n in response.json()["notifications"]] == [1] * MAX_BATCH


async def test_a_body_over_the_batch_limit_is_refused_as_too_large(
    app: FastAPI, client: httpx.AsyncClient, account: str
) -> None:
    body = json.dumps([message("c1", "x" * 10_000) for _ in range(500)])
    assert len(body) > app.state.settings.max_batch_body_bytes
    response = await client.post(BATCH, content=body, headers=JSON_TYPE)
    assert response.status_code == 413
    assert (
        response.json()["detail"] == f"the request body is larger than {app.state.settings.max_batch_body_bytes} bytes"
    )


async def test_a_batch_to_one_installation_delivers_only_to_it(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver, path="/a")
    chosen = await install(client, receiver, path="/b")
    response = await post_batch(client, [message("c1", "one")], installation_id=chosen["id"])
    assert [d["installation_id"] for d in response.json()["notifications"][0]["deliveries"]] == [chosen["id"]]


async def test_a_batch_to_an_installation_not_in_the_account_is_not_found_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient, account: str
) -> None:
    response = await post_batch(client, [message("c1", "one")], installation_id="no-such-installation")
    assert response.status_code == 404
    assert await stored(store_of(app)) == (0, 0)


async def test_another_accounts_key_gets_404_and_publishes_nothing(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver)
    assert (await client.post("/api/accounts", json={"id": "intruder"})).status_code == 201
    key = (await client.post("/api/accounts/intruder/keys", json={"name": "admin"})).json()["key"]
    response = await client.post(
        BATCH, content=json.dumps([message("c1", "one")]), headers={**JSON_TYPE, "Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 404
    assert response.json()["type"].endswith("/account-not-found")
    assert await stored(store_of(app)) == (0, 0)


async def test_a_batch_without_credentials_is_unauthorized(client: httpx.AsyncClient, account: str) -> None:
    response = await client.post(
        BATCH, content=json.dumps([message("c1", "one")]), headers={**JSON_TYPE, "Authorization": ""}
    )
    assert response.status_code == 401


async def test_only_subscribers_of_a_notifications_event_type_get_its_delivery(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    await install(client, receiver, events=(CHAT_STATE,))
    response = await post_batch(client, [message("c1", "one"), chat_state("c1")])
    assert [len(n["deliveries"]) for n in response.json()["notifications"]] == [0, 1]
