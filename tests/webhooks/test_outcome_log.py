"""The operator's log lines: a failed attempt, a conversation left with a failed delivery, a disabled webhook, an
SSRF refusal; each with the fields that say which, and none for a success."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.webhooks.flow import CONTENT, install, message, publish, settled
from tests.webhooks.receiver import Receiver, Reply

pytestmark = pytest.mark.anyio


def lines(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    return [record.__dict__ for record in caplog.records if record.getMessage() == event]


async def test_a_failed_attempt_is_one_line_naming_the_delivery_its_status_and_the_retry(
    client: httpx.AsyncClient, account: str, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    installed = await install(client, receiver, max_retries=1)
    receiver.then("/hook", Reply(503))
    [published] = await publish(client, message("conv-1", "hi"))
    await settled(client, installed["id"], 1)
    [failed] = lines(caplog, "webhook attempt failed")
    assert (failed["installation"], failed["event_type"], failed["delivery"]) == (
        installed["id"],
        CONTENT,
        published["id"],
    )
    assert (failed["attempt"], failed["status"]) == (1, 503)
    assert failed["retry_at"].endswith("Z")


async def test_giving_up_on_a_conversations_delivery_says_how_to_recover_it(
    client: httpx.AsyncClient, account: str, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    installed = await install(client, receiver, max_retries=0)
    receiver.then("/hook", Reply(500))
    [published] = await publish(client, message("conv-1", "hi"))
    await settled(client, installed["id"], 1)
    [attempt] = lines(caplog, "webhook attempt failed")
    assert attempt["gave_up"]
    [left] = lines(caplog, "conversation left with a failed delivery; its later notifications are delivered past it")
    assert (left["conversation"], left["delivery"]) == ("conv-1", published["id"])
    assert f"appinstall deliveries retry {installed['id']} {published['id']}" in left["fix"]


async def test_a_disabled_webhook_is_a_line_with_its_reason(
    client: httpx.AsyncClient, account: str, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    installed = await install(client, receiver, max_retries=5)
    receiver.then("/hook", Reply(410))
    await publish(client, message("conv-1", "hi"))
    await settled(client, installed["id"], 1)
    [disabled] = lines(caplog, "webhook disabled")
    assert (disabled["installation"], disabled["event_type"]) == (installed["id"], CONTENT)
    assert "410" in disabled["reason"]


async def test_an_address_the_guard_refuses_is_its_own_line(
    client: httpx.AsyncClient, account: str, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    installed = await install(client, receiver, endpoint="https://10.255.255.1/hook", max_retries=0)
    await publish(client, message("conv-1", "hi"))
    await settled(client, installed["id"], 1)
    [blocked] = lines(caplog, "webhook request blocked by the SSRF guard")
    assert blocked["error"].startswith("blocked: private address 10.255.255.1")
    assert lines(caplog, "webhook attempt failed") == []


async def test_a_success_writes_no_line(
    client: httpx.AsyncClient, account: str, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    installed = await install(client, receiver)
    await publish(client, message("conv-1", "hi"))
    await settled(client, installed["id"], 1)
    assert [
        r
        for r in caplog.records
        if r.name == "appinstall.webhooks" and r.levelno >= logging.WARNING and "DEV" not in r.getMessage()
    ] == []


async def test_re_enabling_a_webhook_is_a_line_naming_who(
    client: httpx.AsyncClient, account: str, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="appinstall")
    installed = await install(client, receiver, max_retries=5)
    receiver.then("/hook", Reply(410))
    await publish(client, message("conv-1", "hi"))
    await settled(client, installed["id"], 1)
    await client.post(
        f"/api/account/{account}/configuration/app-install/installations/{installed['id']}/webhooks/ContentEvent/enable"
    )
    [enabled] = lines(caplog, "webhook re-enabled")
    assert (enabled["installation"], enabled["event_type"], enabled["by"]) == (installed["id"], CONTENT, "operator")
