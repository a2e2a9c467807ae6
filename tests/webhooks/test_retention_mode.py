"""Retention mode end to end, on SQLite and PostgreSQL: an installation fails as a whole, holds what comes
meanwhile, and recovers by sending it in order per conversation."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from tests.webhooks.flow import BASE, CONTENT, install, message, publish, settled
from tests.webhooks.receiver import Receiver, Reply

pytestmark = pytest.mark.anyio


async def state_of(client: httpx.AsyncClient, installation_id: str) -> dict[str, Any]:
    response = await client.get(f"{BASE}/{installation_id}/webhooks/state")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def until_state(client: httpx.AsyncClient, installation_id: str, *states: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        current = await state_of(client, installation_id)
        if current["state"] in states:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"the installation never became {states}: {current}")
        await asyncio.sleep(0.01)


def texts(receiver: Receiver) -> list[str]:
    return [json.loads(body)["body"]["changes"][0]["event"]["message"] for body in receiver.bodies()]


async def test_a_retention_time_without_max_retries_retries_until_the_endpoint_answers(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver, max_retries=None, retention=60)
    receiver.then("/hook", Reply(500), Reply(500))
    await publish(client, message("conv-1", "hi"))
    [delivery] = await settled(client, installed["id"], 1)
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 3)


async def test_an_installation_by_count_says_so_and_is_always_up(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver, max_retries=2)
    state = await state_of(client, installed["id"])
    assert (state["retry_mode"], state["retention_time"], state["state"], state["held"]) == ("count", None, "up", 0)


async def test_while_failed_new_notifications_are_held_then_sent_in_order_after_the_recovery(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver, max_retries=None, retention=60)
    receiver.then("/hook", *[Reply(500)] * 6, containing=b'"a1"')  # about 1.5 s of retries
    await publish(client, message("conv-a", "a1"))
    failed = await until_state(client, installed["id"], "failed")
    assert failed["reason"] is not None and "500" in failed["reason"]

    later = [
        await publish(client, message(conversation, text))
        for conversation, text in (("conv-b", "b1"), ("conv-a", "a2"), ("conv-b", "b2"))
    ]
    assert [created[0]["status"] for created in later] == ["held", "blocked", "blocked"]

    await settled(client, installed["id"], 4)
    arrived = texts(receiver)
    assert arrived[:7] == ["a1"] * 7  # six failures, then the retry that ends the failure; nothing in between
    assert sorted(arrived[7:]) == ["a2", "b1", "b2"]
    assert arrived.index("b1") < arrived.index("b2")
    recovered = await until_state(client, installed["id"], "recovered", "up")
    assert recovered["held"] == 0


async def test_a_type_with_max_retries_zero_is_dropped_and_fails_nothing(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver, max_retries=0, retention=60)
    receiver.then("/hook", Reply(500))
    await publish(client, message("conv-1", "dropped"))
    [delivery] = await settled(client, installed["id"], 1)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert (await state_of(client, installed["id"]))["state"] == "up"


async def test_once_the_retention_time_has_passed_nothing_stays_held(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver, max_retries=None, retention=2)
    receiver.then("/hook", *[Reply(500)] * 1000)
    await publish(client, message("conv-a", "a1"))
    await until_state(client, installed["id"], "failed")
    [held] = await publish(client, message("conv-b", "b1"))
    assert held["status"] == "held"
    deliveries = await settled(client, installed["id"], 2, timeout=20)
    assert [item["status"] for item in deliveries] == ["failed", "failed"]
    assert all("retention time" in item["last_error"] for item in deliveries)
    assert (await state_of(client, installed["id"]))["held"] == 0


async def test_leaving_retention_mode_releases_what_was_held(
    client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver, max_retries=None, retention=600)
    receiver.then("/hook", *[Reply(500)] * 1000, containing=b'"a1"')
    await publish(client, message("conv-a", "a1"))
    await until_state(client, installed["id"], "failed")
    [held] = await publish(client, message("conv-b", "b1"))
    assert held["status"] == "held"

    current = (await client.get(f"{BASE}/{installed['id']}")).json()
    del current["capabilities"]["webhooks"]["retry"]
    changed = await client.put(f"{BASE}/{installed['id']}", json=current, headers={"If-Match": str(2 - 1)})
    assert changed.status_code == 200, changed.text

    deliveries = await settled(client, installed["id"], 2)
    assert {item["conversation_id"]: item["status"] for item in deliveries} == {
        "conv-a": "failed",
        "conv-b": "succeeded",
    }
    state = await state_of(client, installed["id"])
    assert (state["retry_mode"], state["state"], state["held"]) == ("count", "up", 0)


async def test_the_state_is_an_accounts_own(client: httpx.AsyncClient, account: str, receiver: Receiver) -> None:
    installed = await install(client, receiver, max_retries=None, retention=60)
    response = await client.get(
        f"/api/account/other/configuration/app-install/installations/{installed['id']}/webhooks/state"
    )
    assert response.status_code == 404
    assert CONTENT  # the same subscription key as every delivery test
