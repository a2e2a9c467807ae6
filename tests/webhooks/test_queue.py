"""The outbox's claims and batched completions, on both engines, without sending anything."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from appinstall.store import Store
from appinstall.webhooks import claims, queue, service
from appinstall.webhooks.models import AttemptResult, Completion
from appinstall.webhooks.policy import Decision
from appinstall.webhooks.status import Status
from appinstall.webhooks.tables import deliveries
from tests.conftest import TEST_OPERATOR_TOKEN
from tests.database_work import counting
from tests.webhooks.flow import ACCOUNT, BASE, CONTENT, install, message, publish, queue_copies
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(quiet_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    transport = httpx.ASGITransport(app=quiet_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
        await http.post("/api/accounts", json={"id": ACCOUNT})
        yield http


async def _statuses(client: httpx.AsyncClient, installation_id: str) -> dict[str, str]:
    items = (await client.get(f"{BASE}/{installation_id}/deliveries", params={"limit": 200})).json()["items"]
    return {item["id"]: item["status"] for item in items}


async def _two_in_one_conversation(client: httpx.AsyncClient) -> list[str]:
    """Publish two notifications in conv-1; their delivery ids, oldest first (the second is blocked)."""
    return [(await publish(client, message("conv-1", str(n))))[0]["id"] for n in range(2)]


async def _force_status(store: Store, ids: list[str], status: str) -> None:
    """Set deliveries' status behind the engine's back, to arrange what a test needs."""
    async with store.transaction() as connection:
        await connection.execute(update(deliveries).where(deliveries.c.id.in_(ids)).values(status=status))


def _ok(started_at: int) -> AttemptResult:
    return AttemptResult(started_at=started_at, latency_ms=1, status_code=200)


async def test_only_the_first_delivery_of_each_conversation_is_due(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    installed = await install(client, receiver)
    published = [await publish(client, message(f"conv-{n % 3}", str(n))) for n in range(6)]
    statuses = await _statuses(client, installed["id"])
    assert [statuses[p[0]["id"]] for p in published] == ["pending"] * 3 + ["blocked"] * 3


async def test_a_batch_finishing_three_conversations_makes_each_ones_next_delivery_due(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    store: Store = quiet_app.state.store
    installed = await install(client, receiver)
    ids = [(await publish(client, message(f"conv-{n % 3}", str(n))))[0]["id"] for n in range(6)]
    jobs = await claims.claim(store, "me", 10, lease_ms=60_000)
    assert sorted(job.id for job in jobs) == sorted(ids[:3])
    now = store.clock()
    completions = [Completion(job, _ok(now), Decision(Status.SUCCEEDED)) for job in jobs]
    kept = await queue.complete_many(store, "me", completions, disable_after_ms=60_000)
    assert kept == {job.seq for job in jobs}
    statuses = await _statuses(client, installed["id"])
    assert [statuses[i] for i in ids] == ["succeeded"] * 3 + ["pending"] * 3


# Published to two installations: each gets conv-1 twice (the second blocked) and conv-2 once.
CONVERSATIONS = (("conv-1", "a"), ("conv-1", "b"), ("conv-2", "c"))


async def test_a_batch_promotes_only_where_a_delivery_of_the_same_installation_and_conversation_waits(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    store: Store = quiet_app.state.store
    first = await install(client, receiver, client_name="first")
    second = await install(client, receiver, client_name="second")
    published = [await publish(client, message(conversation, text)) for conversation, text in CONVERSATIONS]
    by_installation = {
        installation["id"]: [
            next(d["id"] for d in made if d["installation_id"] == installation["id"]) for made in published
        ]
        for installation in (first, second)
    }
    jobs = await claims.claim(store, "me", 10, lease_ms=60_000)
    assert len(jobs) == 4  # each installation's first of conv-1, and conv-2
    second_in_conv_1 = by_installation[second["id"]][0]
    now = store.clock()
    finished = [Completion(job, _ok(now), Decision(Status.SUCCEEDED)) for job in jobs if job.id != second_in_conv_1]
    await queue.complete_many(store, "me", finished, disable_after_ms=60_000)
    first_statuses = await _statuses(client, first["id"])
    second_statuses = await _statuses(client, second["id"])
    assert [first_statuses[i] for i in by_installation[first["id"]]] == ["succeeded", "pending", "succeeded"]
    # the other installation's conv-1 is still in flight: its next one waits, whoever else finished conv-1
    assert [second_statuses[i] for i in by_installation[second["id"]]] == ["in_flight", "blocked", "succeeded"]


async def test_a_retry_decision_keeps_the_conversation_blocked_behind_it(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    store: Store = quiet_app.state.store
    installed = await install(client, receiver)
    ids = await _two_in_one_conversation(client)
    [job] = await claims.claim(store, "me", 10, lease_ms=60_000)
    retry = Decision(Status.PENDING, retry_at=store.clock() + 60_000)
    failed = AttemptResult(started_at=store.clock(), latency_ms=1, status_code=500)
    await queue.complete_many(store, "me", [Completion(job, failed, retry)], disable_after_ms=60_000)
    statuses = await _statuses(client, installed["id"])
    assert [statuses[i] for i in ids] == ["pending", "blocked"]
    assert await claims.claim(store, "me", 10, lease_ms=60_000) == []  # not due for a minute


async def test_a_completion_whose_lease_was_taken_over_records_the_attempt_but_not_the_outcome(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    store: Store = quiet_app.state.store
    installed = await install(client, receiver)
    [published] = await publish(client, message("conv-1", "hi"))
    [job] = await claims.claim(store, "first", 10, lease_ms=1)
    real_clock = store.clock
    store.clock = lambda: real_clock() + 10  # type: ignore[method-assign]
    try:
        assert await queue.reclaim_expired(store) == 1
        [again] = await claims.claim(store, "second", 10, lease_ms=60_000)
    finally:
        store.clock = real_clock  # type: ignore[method-assign]
    assert again.id == job.id
    completion = Completion(job, _ok(store.clock()), Decision(Status.SUCCEEDED))
    assert await queue.complete_many(store, "first", [completion], disable_after_ms=60_000) == set()
    delivery = (await client.get(f"{BASE}/{installed['id']}/deliveries/{published['id']}")).json()
    assert delivery["status"] == "in_flight"
    assert len(delivery["attempt_log"]) == 1


async def test_the_stall_check_unblocks_a_conversation_with_nothing_ahead(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    store: Store = quiet_app.state.store
    installed = await install(client, receiver)
    ids = await _two_in_one_conversation(client)
    # Simulate the impossible: the head finished without promoting its successor.
    await _force_status(store, ids[:1], "succeeded")
    assert await queue.unblock_stalled(store) == 1
    statuses = await _statuses(client, installed["id"])
    assert statuses[ids[1]] == "pending"


async def test_a_claim_after_the_manifest_changes_sends_by_the_new_manifest(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """The worker caches each installation's subscriptions by revision, so an update is seen at the next claim."""
    store: Store = quiet_app.state.store
    subscriptions = claims.Subscriptions()
    installed = await install(client, receiver)
    await publish(client, message("conv-1", "before"))
    [before] = await claims.claim(store, "me", 10, 60_000, subscriptions)
    current = await client.get(f"{BASE}/{installed['id']}")
    manifest = {key: current.json()[key] for key in ("client_name", "capabilities")}
    manifest["capabilities"]["webhooks"][CONTENT]["endpoint"] = receiver.url("/moved")
    updated = await client.put(
        f"{BASE}/{installed['id']}", json=manifest, headers={"If-Match": current.headers["ac-revision"]}
    )
    assert updated.status_code == 200, updated.text
    await publish(client, message("conv-2", "after"))
    [after] = await claims.claim(store, "me", 10, 60_000, subscriptions)
    assert (before.endpoint, after.endpoint) == (receiver.url("/hook"), receiver.url("/moved"))


async def _two_installations_with_backlogs(
    client: httpx.AsyncClient, store: Store, receiver: Receiver, counts: tuple[int, int] = (50, 2)
) -> list[str]:
    """Installations x (50 due deliveries) and y (2), x's queued first: their ids."""
    ids = []
    for count in counts:
        installed = await install(client, receiver)
        response = await client.post(
            f"/api/account/{ACCOUNT}/notifications",
            params={"installation_id": installed["id"]},
            json=message("conv-1", "hi"),
        )
        assert response.status_code == 202, response.text
        await queue_copies(store, installed["id"], count - 1)
        ids.append(installed["id"])
    return ids


async def test_a_claim_takes_no_more_of_one_installation_than_its_cap_and_reaches_the_next(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    store: Store = quiet_app.state.store
    x, y = await _two_installations_with_backlogs(client, store, receiver)
    claimed = await claims.claim_fairly(store, "first", 128, 60_000, cap=10)
    assert Counter(job.installation_id for job in claimed.jobs) == {x: 10, y: 2}
    assert claimed.full == {x}
    again = await claims.claim_fairly(store, "second", 128, 60_000, cap=10)
    assert (again.jobs, again.full) == ([], {x})


async def test_a_claim_gives_each_installation_a_turn_before_anyones_second(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """Among the due deliveries it reads (a window of four per delivery it may take, earliest first)."""
    store: Store = quiet_app.state.store
    x, y = await _two_installations_with_backlogs(client, store, receiver, (5, 2))
    claimed = await claims.claim_fairly(store, "me", 3, 60_000, cap=10)
    assert Counter(job.installation_id for job in claimed.jobs) == {x: 2, y: 1}


async def test_workers_claiming_at_once_hold_one_installations_cap_together(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    store: Store = quiet_app.state.store
    x, _ = await _two_installations_with_backlogs(client, store, receiver)
    results = await asyncio.gather(*(claims.claim_fairly(store, f"worker-{n}", 20, 60_000, cap=10) for n in range(5)))
    leased = Counter(job.installation_id for result in results for job in result.jobs)
    assert leased[x] == 10
    assert len({job.seq for result in results for job in result.jobs}) == sum(leased.values())


async def test_a_claim_looks_past_the_capped_installations_backlog_only_when_asked(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """Their backlog fills the window of earliest due deliveries: y's are found only by reading on past it."""
    store: Store = quiet_app.state.store
    x, y = await _two_installations_with_backlogs(client, store, receiver, (200, 2))
    first = await claims.claim_fairly(store, "me", 10, 60_000, cap=10)
    assert {job.installation_id for job in first.jobs} == {x}
    blind = await claims.claim_fairly(store, "me", 10, 60_000, cap=10, look_past=False)
    assert (blind.jobs, blind.nothing_past) == ([], False)
    looking = await claims.claim_fairly(store, "me", 10, 60_000, cap=10, look_past=True)
    assert {job.installation_id for job in looking.jobs} == {y}
    again = await claims.claim_fairly(store, "me", 10, 60_000, cap=10, look_past=True)
    assert (again.jobs, again.nothing_past) == ([], True)


async def test_the_next_due_time_leaves_out_installations_the_worker_cannot_claim_for(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    store: Store = quiet_app.state.store
    x, y = await _two_installations_with_backlogs(client, store, receiver)
    assert await queue.next_due_at(store, frozenset({x, y})) is None
    assert await queue.next_due_at(store, frozenset({x})) is not None


async def test_a_claim_is_three_statements_to_lease_and_four_to_read_what_it_leased(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """The lease counts what each installation has claimed, reads a window of due deliveries and leases those
    chosen (on PostgreSQL after taking its turn, a fourth). The reads: the deliveries, their installations with
    their secrets (the registry's), the accounts' signature choices (the accounts'), and the manifests not cached
    yet. On a SQLite file no pooled connection at all: the lease by the inline writer, the reads inline. On
    PostgreSQL one connection for the lease's transaction, one shared by the reads."""
    store: Store = quiet_app.state.store
    await install(client, receiver)
    for n in range(3):
        await publish(client, message(f"conv-{n}", "hi"))
    with counting(store) as work:
        assert len(await claims.claim(store, "me", 10, 60_000)) == 3
    assert (work.checkouts, work.queries) == (0, 7) if store.dialect.name == "sqlite" else (2, 8)


async def test_a_publish_is_a_few_statements_in_one_unit_of_work_with_no_pooled_connection_on_a_sqlite_file(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """On SQLite the write lock is held only while the unit runs on the loop: a thread hand-off per statement, with
    the loop busy, held it long enough to stall the worker (its records wait for the same lock)."""
    store: Store = quiet_app.state.store
    for _ in range(2):
        await install(client, receiver)
    with counting(store) as work:
        created = await service.publish(store, ACCOUNT, message("conv-1", "hi"))
    assert len(created) == 2
    # the subscribers (the registry's), what holds them back (a webhook disabled, retention mode), which of them
    # have an unfinished delivery in the conversation, the notification, and one insert of both deliveries; on
    # SQLite the notification's key is read off the largest before it and checked after (store.batch.insert_keyed:
    # three statements on the driver's connection cost less than one through SQLAlchemy); on PostgreSQL also one
    # statement that locks both (installation, conversation) pairs, and the NOTIFY
    expected = (0, 7) if store.dialect.name == "sqlite" else (1, 7)
    assert (work.checkouts, work.queries) == expected


async def test_a_conversation_locked_by_one_transaction_waits_for_its_commit_in_another(quiet_app: FastAPI) -> None:
    """PostgreSQL: advisory locks on (installation, conversation) pairs, all taken in one statement. SQLite has one
    writer at a time already, and takes none."""
    store: Store = quiet_app.state.store
    locked, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with store.transaction() as connection:
            await connection.run_sync(queue.lock_conversations, [("app", "conv-2"), ("app", "conv-1"), ("app", None)])
            locked.set()
            await release.wait()

    async def overlap() -> None:
        async with store.transaction() as connection:
            await connection.run_sync(queue.lock_conversations, [("other", "conv-9"), ("app", "conv-1")])

    if store.dialect.name != "postgresql":
        with counting(store) as work:
            async with store.transaction() as connection:
                await connection.run_sync(queue.lock_conversations, [("app", "conv-1")])
        assert work.queries == 0
        return
    holder = asyncio.create_task(hold())
    await locked.wait()
    waiter = asyncio.create_task(overlap())
    await asyncio.sleep(0.3)
    assert not waiter.done()  # conv-1 is held
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, waiter), timeout=5)


async def test_two_runs_of_one_conversation_in_one_notification_keep_their_order(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """Content, chat state, content: the installation subscribed to content gets two deliveries from one publish,
    and the second waits for the first like any later one."""
    installed = await install(client, receiver)
    document = message("conv-1", "first")
    content = document["body"]["changes"][0]
    chat_state = {**content, "event": {"type": "ChatStateEvent", "chatState": "COMPOSING"}}
    second = {**content, "event": {**content["event"], "message": "second"}}
    document["body"]["changes"] = [content, chat_state, second]
    created = await publish(client, document)
    statuses = await _statuses(client, installed["id"])
    assert [statuses[delivery["id"]] for delivery in created] == ["pending", "blocked"]


async def test_recovering_two_failed_deliveries_of_one_conversation_queues_the_second_behind_the_first(
    quiet_app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    store: Store = quiet_app.state.store
    installed = await install(client, receiver)
    ids = await _two_in_one_conversation(client)
    await _force_status(store, ids, "failed")
    assert await service.recover(store, ACCOUNT, installed["id"], 0, "test") == 2
    statuses = await _statuses(client, installed["id"])
    assert [statuses[delivery_id] for delivery_id in ids] == ["pending", "blocked"]


def test_a_delivery_takes_its_turn_behind_an_unfinished_one_of_its_pair_only() -> None:
    unfinished: set[tuple[str, str | None]] = {("app", "conv-1")}
    assert queue.take_turn(unfinished, ("app", "conv-1")) == "blocked"
    assert queue.take_turn(unfinished, ("app", "conv-2")) == "pending"
    assert queue.take_turn(unfinished, ("app", "conv-2")) == "blocked"  # behind the one just queued
    assert queue.take_turn(unfinished, ("other", "conv-1")) == "pending"
    assert [queue.take_turn(unfinished, ("app", None)) for _ in range(2)] == ["pending", "pending"]
