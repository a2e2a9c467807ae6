"""One tenant's hanging endpoint slows only that tenant: on both engines, with 2,000 of X's deliveries queued for
an endpoint that accepts connections and never answers, Y's arrive as if X were not there."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from appinstall.settings import Settings
from tests.webhooks.flow import ACCOUNT, JSON_TYPE, install, message, queue_copies
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.anyio, pytest.mark.fault]

BACKLOG = 2_000
Y_COUNT = 20


class Silent:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers (nor closes it)."""

    def __init__(self) -> None:
        self.connections: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def _accept(self, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer)

    async def __aenter__(self) -> Silent:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        for writer in self.connections:
            writer.transport.abort()
        assert self._server is not None
        self._server.close()


@pytest.fixture
async def silent() -> AsyncIterator[Silent]:
    async with Silent() as server:
        yield server


async def _publish_to(client: httpx.AsyncClient, installation_id: str, conversation: str, text: str) -> None:
    response = await client.post(
        f"/api/account/{ACCOUNT}/notifications",
        params={"installation_id": installation_id},
        content=json.dumps(message(conversation, text)),
        headers=JSON_TYPE,
    )
    assert response.status_code == 202, response.text


async def _until(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_a_tenants_hanging_endpoint_does_not_delay_another_tenants_deliveries(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver, silent: Silent, settings: Settings
) -> None:
    hanging = await install(client, receiver, endpoint=f"http://127.0.0.1:{silent.port}/hook")
    fast = await install(client, receiver)
    await _publish_to(client, hanging["id"], "x-conv", "x")
    await queue_copies(app.state.store, hanging["id"], BACKLOG - 1)
    # X holds every request its host may have at once, each waiting for an answer that never comes.
    await _until(lambda: len(silent.connections) >= settings.webhook_per_host_concurrency, 10, "X's host to fill")

    published: dict[str, float] = {}
    for index in range(Y_COUNT):
        text = f"y-{index}"
        published[text] = time.monotonic()
        await _publish_to(client, fast["id"], f"y-conv-{index}", text)
    await _until(lambda: len(receiver.received) >= Y_COUNT, 30, "Y's deliveries")

    arrived = {json.loads(r.body)["body"]["changes"][0]["event"]["message"]: r.at for r in receiver.received}
    latencies = sorted(arrived[text] - published[text] for text in published)
    p99 = latencies[math.ceil(0.99 * len(latencies)) - 1]
    assert p99 < 1.0, f"Y's latencies (s): {[round(latency, 3) for latency in latencies]}"
