"""The delivery log and the audit trail are removed by age, oldest first, and nothing unfinished ever is."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from appinstall.audit.pruning import prune_audit_events
from appinstall.audit.tables import audit_events
from appinstall.store import Store
from appinstall.webhooks import metrics
from appinstall.webhooks.pruning import DAY_MS, Pruner, prune_delivery_log
from appinstall.webhooks.tables import deliveries, delivery_attempts, notifications
from tests.webhooks.flow import BASE, install, message, publish, settled
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio

MONTH_MS = 30 * DAY_MS


def store_of(app: FastAPI) -> Store:
    store: Store = app.state.store
    return store


async def without_worker(app: FastAPI) -> Store:
    """The app's store, its worker stopped: what the test marks finished or leaves unfinished stays so."""
    await app.state.worker.stop()
    return store_of(app)


def days_later(store: Store, days: int) -> None:
    """Move the store's clock ``days`` ahead of the real one."""
    real = store.clock
    store.clock = lambda: real() + days * DAY_MS


async def count(store: Store, table: object) -> int:
    async with store.read() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_finished_deliveries_their_attempts_and_notifications_are_removed_once_old(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver)
    for text in ("a", "b", "c"):
        await publish(client, message(f"conv-{text}", text))
    await settled(client, installed["id"], 3)
    store = store_of(app)
    days_later(store, 31)

    pruned = await prune_delivery_log(store, MONTH_MS)

    assert (pruned.notifications, pruned.deliveries, pruned.attempts, pruned.more) == (3, 3, 3, False)
    assert [await count(store, t) for t in (notifications, deliveries, delivery_attempts)] == [0, 0, 0]
    listed = await client.get(f"{BASE}/{installed['id']}/deliveries")
    assert listed.json()["items"] == []


async def test_deliveries_younger_than_the_age_are_kept(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    installed = await install(client, receiver)
    await publish(client, message("conv-a", "a"))
    await settled(client, installed["id"], 1)
    store = store_of(app)
    days_later(store, 29)

    pruned = await prune_delivery_log(store, MONTH_MS)

    assert (pruned.notifications, pruned.deliveries) == (0, 0)
    assert await count(store, deliveries) == 1


async def test_an_unfinished_delivery_and_its_notification_are_never_removed(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    store = await without_worker(app)
    await install(client, receiver)
    [pending] = await publish(client, message("conv-a", "a"))
    assert pending["status"] == "pending"
    days_later(store, 365)

    pruned = await prune_delivery_log(store, MONTH_MS)

    assert (pruned.notifications, pruned.deliveries) == (0, 0)
    assert (await count(store, notifications), await count(store, deliveries)) == (1, 1)


async def test_a_notification_stays_while_one_of_its_deliveries_is_unfinished(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    store = await without_worker(app)
    first = await install(client, receiver)
    await install(client, receiver)
    published = await publish(client, message("conv-a", "a"))
    done = next(item for item in published if item["installation_id"] == first["id"])
    async with store.transaction() as connection:
        await connection.execute(deliveries.update().where(deliveries.c.id == done["id"]).values(status="succeeded"))
    days_later(store, 31)

    pruned = await prune_delivery_log(store, MONTH_MS)

    assert (pruned.notifications, pruned.deliveries) == (0, 1)
    assert (await count(store, notifications), await count(store, deliveries)) == (1, 1)


async def test_a_pass_stops_when_its_time_is_up_and_the_next_goes_on(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    store = await without_worker(app)
    installed = await install(client, receiver)
    for text in ("a", "b", "c"):
        await publish(client, message(f"conv-{text}", text))
    async with store.transaction() as connection:
        await connection.execute(deliveries.update().values(status="failed"))
    days_later(store, 31)

    first = await prune_delivery_log(store, MONTH_MS, budget_seconds=0, batch=1)
    rest = await prune_delivery_log(store, MONTH_MS, budget_seconds=5, batch=1)

    assert (first.deliveries, first.more) == (1, True)
    assert (rest.deliveries, rest.more) == (2, False)
    assert (await client.get(f"{BASE}/{installed['id']}/deliveries")).json()["items"] == []


async def test_audit_events_older_than_their_age_are_removed(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    store = await without_worker(app)  # its housekeeping would prune first, with the clock moved on
    installed = await install(client, receiver)
    days_later(store, 400)
    rotated = await client.post(f"{BASE}/{installed['id']}/secret")
    assert rotated.status_code == 200, rotated.text

    removed, left = await prune_audit_events(store, 365 * DAY_MS)

    trail = (await client.get(f"{BASE}/{installed['id']}/audit")).json()
    assert (removed, left) == (1, False)
    assert [event["action"] for event in trail] == ["rotate_secret"]


async def test_a_pruner_set_to_zero_days_keeps_everything(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    store = await without_worker(app)
    await install(client, receiver)
    await publish(client, message("conv-a", "a"))
    async with store.transaction() as connection:
        await connection.execute(deliveries.update().values(status="succeeded"))
    days_later(store, 10_000)

    await Pruner(store, delivery_log_days=0, audit_log_days=0).run_if_due(0.0)

    assert (await count(store, deliveries), await count(store, audit_events)) == (1, 1)


async def test_the_pruner_counts_what_it_removed_by_table(
    app: FastAPI, client: httpx.AsyncClient, account: str, receiver: Receiver
) -> None:
    store = await without_worker(app)
    await install(client, receiver)
    await publish(client, message("conv-a", "a"))
    async with store.transaction() as connection:
        await connection.execute(deliveries.update().values(status="succeeded"))
    days_later(store, 31)
    before = metrics.ROWS_REMOVED.labels("deliveries")._value.get()

    await Pruner(store, delivery_log_days=30, audit_log_days=365).run_if_due(0.0)

    assert metrics.ROWS_REMOVED.labels("deliveries")._value.get() == before + 1
