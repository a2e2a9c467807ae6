"""Publishing wakes the workers itself, once its transaction has committed, on both engines: no view has to.

The tests call the service, never the HTTP API, and listen on the store's wakeup the way a worker does. A second
store on the same database plays a worker in another process: on PostgreSQL it hears through ``LISTEN``, on a
SQLite file by a datagram (``appinstall worker`` beside ``serve --no-worker``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from appinstall.app import create_app
from appinstall.settings import Settings
from appinstall.store import Store, create_engine
from appinstall.store.keyring import Keyring
from appinstall.store.wakeup import LocalWakeup
from appinstall.webhooks import service
from appinstall.webhooks.envelope import route
from appinstall.webhooks.tables import deliveries
from appinstall.webhooks.worker import Worker
from tests.conftest import TEST_MASTER_KEY, TEST_OPERATOR_TOKEN
from tests.webhooks.flow import ACCOUNT, install, message
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio

# Another process's wake-up travels through the database: allow it a moment, on a loaded machine.
HEARD_WITHIN = 5.0
# How long a test waits to be sure that nothing arrives.
QUIET_FOR = 0.3


@pytest.fixture
async def store(quiet_app: FastAPI) -> Store:
    found: Store = quiet_app.state.store
    return found


@pytest.fixture
async def installed(quiet_app: FastAPI, receiver: Receiver) -> str:
    """An installation subscribed to content events; its id."""
    headers = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    transport = httpx.ASGITransport(app=quiet_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
        await client.post("/api/accounts", json={"id": ACCOUNT})
        installation_id: str = (await install(client, receiver))["id"]
    return installation_id


class Listener:
    """Counts the wake-ups a subscription hears, like a worker's ``wake``."""

    def __init__(self) -> None:
        self.heard = asyncio.Event()
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        self.heard.set()

    async def hears(self) -> bool:
        try:
            await asyncio.wait_for(self.heard.wait(), HEARD_WITHIN)
        except TimeoutError:
            return False
        return True


@pytest.fixture
async def listener(store: Store) -> AsyncIterator[Listener]:
    listening = Listener()
    subscription = await store.wakeup.subscribe(listening)
    yield listening
    await subscription.close()


@pytest.fixture
async def other_process(store: Store) -> AsyncIterator[Listener | None]:
    """A listener on a store of its own (another engine, as another process would have), where another process can
    open the database (not a SQLite database in memory)."""
    if type(store.wakeup) is LocalWakeup:
        yield None
        return
    other = Store(create_engine(store.engine.url.render_as_string(hide_password=False)), Keyring.parse(TEST_MASTER_KEY))
    listening = Listener()
    subscription = await other.wakeup.subscribe(listening)
    yield listening
    await subscription.close()
    await other.close()


async def test_a_publish_through_the_service_wakes_a_waiting_worker_once_committed(
    store: Store, installed: str, listener: Listener
) -> None:
    created = await service.publish(store, ACCOUNT, message("conv-1", "hi"))
    assert [delivery.installation_id for delivery in created] == [installed]
    assert listener.heard.is_set()  # in this process: by the time publish returns


async def test_a_running_worker_is_woken_by_a_publish_through_the_service(
    settings: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[Worker] = []
    wake = Worker.wake

    def spy(worker: Worker) -> None:
        woken.append(worker)
        wake(worker)

    monkeypatch.setattr(Worker, "wake", spy)
    app = create_app(settings)  # with its worker
    async with app.router.lifespan_context(app):
        store: Store = app.state.store
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            await client.post("/api/accounts", json={"id": ACCOUNT})
            await install(client, receiver)
        woken.clear()
        await service.publish(store, ACCOUNT, message("conv-1", "hi"))
        assert woken == [app.state.worker]


async def test_a_worker_hears_each_publish_of_its_own_process_once(
    store: Store, installed: str, listener: Listener
) -> None:
    """On PostgreSQL the notice comes back to this process too, and is passed over: it was heard already."""
    await service.publish(store, ACCOUNT, message("conv-1", "hi"))
    await asyncio.sleep(QUIET_FOR)
    assert listener.count == 1


async def test_a_publish_wakes_the_workers_of_other_processes(
    store: Store, installed: str, other_process: Listener | None
) -> None:
    assert other_process is not None
    await service.publish(store, ACCOUNT, message("conv-1", "hi"))
    assert await other_process.hears()


async def test_a_publish_inside_a_larger_transaction_wakes_only_when_that_commits(
    store: Store, installed: str, listener: Listener
) -> None:
    async with store.transaction() as connection:
        await connection.run_sync(service.publish_into, ACCOUNT, route(message("conv-1", "hi")), store.clock())
        await asyncio.sleep(0)
        assert not listener.heard.is_set()
    assert listener.heard.is_set()


async def test_a_rolled_back_publish_wakes_nobody(
    store: Store, installed: str, listener: Listener, other_process: Listener | None
) -> None:
    with pytest.raises(RuntimeError, match="changed its mind"):
        async with store.transaction() as connection:
            await connection.run_sync(service.publish_into, ACCOUNT, route(message("conv-1", "hi")), store.clock())
            raise RuntimeError("the caller changed its mind")
    await asyncio.sleep(QUIET_FOR)
    assert listener.count == 0
    assert other_process is None or other_process.count == 0


async def test_a_publish_with_no_subscriber_wakes_nobody(store: Store, installed: str, listener: Listener) -> None:
    typing = message("conv-1", "hi")
    typing["body"]["changes"][0]["event"] = {"type": "ChatStateEvent", "chatState": "COMPOSING"}
    assert await service.publish(store, ACCOUNT, typing) == []  # the installation takes content events only
    assert listener.count == 0


async def test_a_retry_through_the_service_wakes_a_waiting_worker(
    store: Store, installed: str, listener: Listener
) -> None:
    [created] = await service.publish(store, ACCOUNT, message("conv-1", "hi"))
    async with store.transaction() as connection:
        await connection.execute(update(deliveries).where(deliveries.c.id == created.id).values(status="failed"))
    listener.count = 0
    await service.retry(store, ACCOUNT, installed, created.id, "test")
    assert listener.count == 1


async def test_each_transaction_wakes_a_listener_once_however_many_deliveries_it_made(
    store: Store, installed: str, listener: Listener
) -> None:
    async with store.transaction() as connection:
        for n in range(3):
            await connection.run_sync(service.publish_into, ACCOUNT, route(message(f"conv-{n}", "hi")), store.clock())
    assert listener.count == 1
