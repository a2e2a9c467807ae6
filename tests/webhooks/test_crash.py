"""Nothing is lost when a worker stops: leases expire and another worker delivers; a graceful stop gives back what it
could not finish. (Processes killed with SIGKILL: tests/faults/test_process_kills.py.)"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from appinstall.app import create_app
from appinstall.settings import Settings
from appinstall.webhooks import claims
from appinstall.webhooks.worker import Worker
from tests.conftest import TEST_OPERATOR_TOKEN
from tests.webhooks.flow import ACCOUNT, BASE, install, message, publish, settled
from tests.webhooks.receiver import Hang, Receiver


@pytest.mark.anyio
async def test_a_delivery_leased_by_a_dead_worker_is_sent_once_its_lease_expires(
    settings: Settings, receiver: Receiver
) -> None:
    app = create_app(settings.model_copy(update={"worker": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {settings.operator_token.get_secret_value()}"}  # type: ignore[union-attr]
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            await client.post("/api/accounts", json={"id": ACCOUNT})
            installed = await install(client, receiver)
            [published] = await publish(client, message("conv-1", "hi"))
            [claimed] = await claims.claim(app.state.store, "a-worker-that-dies", 10, lease_ms=300)
            assert claimed.id == published["id"]
            await asyncio.sleep(0.4)  # the lease runs out: the new worker's first housekeeping takes it back
            worker = Worker(app.state.store, settings)
            await worker.start()
            try:
                [delivery] = await settled(client, installed["id"], 1)
            finally:
                await worker.stop()
    assert delivery["status"] == "succeeded"
    assert [r.headers["webhook-id"] for r in receiver.received] == [published["id"]]


@pytest.mark.anyio
async def test_a_graceful_stop_gives_back_what_it_could_not_finish(settings: Settings, receiver: Receiver) -> None:
    receiver.then("/hook", Hang(3))
    app = create_app(settings.model_copy(update={"worker": False, "webhook_timeout_seconds": 5.0}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            await client.post("/api/accounts", json={"id": ACCOUNT})
            installed = await install(client, receiver)
            [published] = await publish(client, message("conv-1", "hi"))
            stopping = Worker(app.state.store, app.state.settings, shutdown_grace=0.1)
            await stopping.start()
            await asyncio.wait_for(receiver.arrived.wait(), 5)
            await stopping.stop()
            url = f"{BASE}/{installed['id']}/deliveries/{published['id']}"
            given_back = (await client.get(url)).json()
            assert (given_back["status"], given_back["attempts"]) == ("pending", 0)
            successor = Worker(app.state.store, app.state.settings)
            await successor.start()
            try:
                [delivery] = await settled(client, installed["id"], 1)
            finally:
                await successor.stop()
    assert delivery["status"] == "succeeded"
    assert [r.headers["webhook-id"] for r in receiver.received] == [published["id"]] * 2
