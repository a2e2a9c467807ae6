"""The worker's side of the outbox: record what happened, keep order, take back expired leases.

Claiming is in ``claims``. A claim is a lease: if the worker dies, the lease expires and ``reclaim_expired`` makes
the delivery due again, and its repeat carries the same ``webhook-id`` (at least once).

Order per installation and conversation: a new delivery is ``blocked`` if an earlier one of the same pair is
unfinished, and finishing a delivery promotes the next blocked one. On PostgreSQL both sides take a transaction
advisory lock on the pair first, so a publish racing a completion cannot leave a delivery blocked for ever.

Whatever makes deliveries due (a retry decided, deliveries given back, and publishing in ``service``) calls
``wake_workers`` in its transaction; the store's wakeup does the rest once it commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.store import Store, fetch_in
from appinstall.store.batch import execute_many
from appinstall.store.dialect import dialect_of
from appinstall.store.wakeup import wake_after_commit
from appinstall.webhooks import health, holding
from appinstall.webhooks.models import AttemptResult, Completion, Job
from appinstall.webhooks.status import UNFINISHED, Status
from appinstall.webhooks.tables import deliveries, delivery_attempts

EXCERPT_CHARS = 4096
ERROR_CHARS = 500


def _lock_key(installation_id: str, conversation_id: str) -> int:
    digest = hashlib.blake2b(f"{installation_id}\0{conversation_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# The helpers below that take a synchronous ``Connection`` are parts of units of work that run whole in
# ``Store.run_transaction``; async code inside ``Store.transaction()`` calls them through ``connection.run_sync``.


def lock_conversations(connection: Connection, pairs: Iterable[tuple[str, str | None]]) -> None:
    """Lock each (installation, conversation) pair for the rest of the transaction, in one order (the dialect's
    advisory locks; nothing where one writer at a time holds the whole database)."""
    # A generator: a dialect with nothing to lock never computes the keys.
    dialect_of(connection).lock(connection, (_lock_key(i, c) for i, c in pairs if c is not None))


def wake_workers(connection: Connection) -> None:
    """The deliveries this transaction made due: every worker hears of them once it commits (``store.wakeup``)."""
    wake_after_commit(connection)


_UNFINISHED_IN_CONVERSATIONS = select(deliveries.c.installation_id, deliveries.c.conversation_id).where(
    deliveries.c.conversation_id.in_(bindparam("conversations", expanding=True)),
    deliveries.c.installation_id.in_(bindparam("installations", expanding=True)),
    deliveries.c.status.in_(UNFINISHED),
)
_BLOCKED_IN_CONVERSATIONS = select(deliveries.c.installation_id, deliveries.c.conversation_id).where(
    deliveries.c.conversation_id.in_(bindparam("conversations", expanding=True)),
    deliveries.c.installation_id.in_(bindparam("installations", expanding=True)),
    deliveries.c.status == Status.BLOCKED,
)
_CONVERSATIONS_PER_QUERY = 500  # bound parameters stay far below any engine's limit


def _pairs_found(
    connection: Connection, statement: Any, pairs: Iterable[tuple[str, str | None]]
) -> set[tuple[str, str | None]]:
    """Which of these (installation, conversation) pairs ``statement`` finds rows of: one query for up to
    ``_CONVERSATIONS_PER_QUERY`` conversations (its rows may pair an installation with another's conversation;
    only the pairs asked about count)."""
    wanted = {pair for pair in pairs if pair[1] is not None}
    conversations = sorted({conversation for _, conversation in wanted if conversation is not None})
    installations = sorted({installation for installation, _ in wanted})
    found: set[tuple[str, str | None]] = set()
    for start in range(0, len(conversations), _CONVERSATIONS_PER_QUERY):
        parameters = {
            "conversations": conversations[start : start + _CONVERSATIONS_PER_QUERY],
            "installations": installations,
        }
        for installation_id, conversation_id in fetch_in(connection, statement, parameters):
            if (installation_id, conversation_id) in wanted:
                found.add((installation_id, conversation_id))
    return found


def unfinished_pairs(connection: Connection, pairs: Iterable[tuple[str, str | None]]) -> set[tuple[str, str | None]]:
    """Which of these (installation, conversation) pairs have an unfinished delivery. ``take_turn`` decides each
    new delivery's status from the set."""
    return _pairs_found(connection, _UNFINISHED_IN_CONVERSATIONS, pairs)


def take_turn(unfinished: set[tuple[str, str | None]], pair: tuple[str, str | None]) -> Status:
    """The first status of a delivery newly queued for ``pair``: ``blocked`` behind an unfinished one of the same
    (installation, conversation), else ``pending``. From then on the pair counts as unfinished, so the next one
    queued in the same transaction waits for this one. Without a conversation there is no order to keep."""
    if pair[1] is None:
        return Status.PENDING
    status = Status.BLOCKED if pair in unfinished else Status.PENDING
    unfinished.add(pair)
    return status


_AHEAD = deliveries.alias("ahead")
# For one pair: its earliest blocked delivery becomes due, unless something of the pair is pending, in flight or
# held.
# Both lookups walk the (installation, conversation, status, seq) index, however long the queue is.
_PROMOTE_HEAD = (
    update(deliveries)
    .where(
        deliveries.c.seq
        == select(func.min(_AHEAD.c.seq))
        .where(
            _AHEAD.c.installation_id == bindparam("b_installation"),
            _AHEAD.c.conversation_id == bindparam("b_conversation"),
            _AHEAD.c.status == Status.BLOCKED,
        )
        .scalar_subquery(),
        ~exists().where(
            _AHEAD.c.installation_id == bindparam("b_installation"),
            _AHEAD.c.conversation_id == bindparam("b_conversation"),
            # not IN (…): an expanding parameter cannot be executed many times
            or_(
                _AHEAD.c.status == Status.PENDING,
                _AHEAD.c.status == Status.IN_FLIGHT,
                _AHEAD.c.status == Status.HELD,
            ),
        ),
    )
    .values(status=Status.PENDING)
)


def _promote_heads(connection: Connection, pairs: set[tuple[str, str | None]]) -> None:
    """Make the earliest blocked delivery of each (installation, conversation) pair due, for the pairs with
    nothing pending, in flight or held (one statement, executed for each pair that has a blocked delivery).

    Most finished deliveries have nothing blocked behind them: one query finds the pairs that do, and only those
    are promoted. Promoting every pair cost PostgreSQL about 0.9 ms a pair, most of a recorded batch (79 of its
    96 ms for 90 deliveries), and capped a worker near 500 deliveries a second. The pairs are locked
    (``lock_conversations``), so no publish can block a delivery behind them meanwhile."""
    blocked = _pairs_found(connection, _BLOCKED_IN_CONVERSATIONS, pairs)
    heads = [{"b_installation": i, "b_conversation": c} for i, c in blocked]
    execute_many(connection, _PROMOTE_HEAD, heads)


async def _promote_all_stalled(connection: AsyncConnection) -> int:
    """Promote the head of every pair that is blocked with nothing ahead of it; reads every blocked row."""
    heads = (
        select(
            deliveries.c.installation_id,
            deliveries.c.conversation_id,
            func.min(deliveries.c.seq).label("seq"),
        )
        .where(deliveries.c.status == Status.BLOCKED)
        .group_by(deliveries.c.installation_id, deliveries.c.conversation_id)
        .subquery()
    )
    free = select(heads.c.seq).where(
        ~exists().where(
            _AHEAD.c.installation_id == heads.c.installation_id,
            _AHEAD.c.conversation_id == heads.c.conversation_id,
            _AHEAD.c.status.in_((Status.PENDING, Status.IN_FLIGHT, Status.HELD)),
        )
    )
    result = await connection.execute(
        update(deliveries).where(deliveries.c.seq.in_(free.scalar_subquery())).values(status=Status.PENDING)
    )
    return result.rowcount or 0


# --- Finishing -------------------------------------------------------------------------------------------------


async def complete_many(
    store: Store,
    owner: str,
    completions: list[Completion],
    *,
    disable_after_ms: int,
    disabled: list[health.Disabled] | None = None,
) -> set[int]:
    """Record a batch of attempts and apply their decisions, in one transaction; the seqs that were still ours.
    The webhooks the batch disabled are added to ``disabled``, when given, once it is committed.

    A delivery whose lease was lost (another worker took it over) still gets its attempt recorded, but its state
    is left to its new owner. Recording in batches is what lets one worker keep up with its HTTP client.
    """
    if not completions:
        return set()
    found: list[health.Disabled] = []
    mine = await store.run_transaction(_complete, owner, completions, store.clock(), disable_after_ms, found)
    if disabled is not None:
        disabled += found
    return mine


def _complete(
    connection: Connection,
    owner: str,
    completions: list[Completion],
    now: int,
    disable_after_ms: int,
    disabled: list[health.Disabled],
) -> set[int]:
    disabled.clear()  # a transaction run again (SQLite busy) starts over
    lock_conversations(connection, [(c.job.installation_id, c.job.conversation_id) for c in completions])
    seqs = [c.job.seq for c in completions]
    mine = {row.seq for row in fetch_in(connection, _STILL_MINE, {"seqs": seqs, "owner": owner})}
    attempts = [_attempt_row(c.job, c.result) for c in completions if c.result is not None]
    execute_many(connection, _INSERT_ATTEMPT, attempts)
    kept = [c for c in completions if c.job.seq in mine]
    execute_many(connection, _FINISH, [_finish_params(c, now) for c in kept])
    disabled += health.track(connection, [c for c in kept if c.result is not None], now, disable_after_ms)
    finished: set[tuple[str, str | None]] = {
        (c.job.installation_id, c.job.conversation_id)
        for c in kept
        if c.decision.status != Status.PENDING and c.job.conversation_id is not None
    }
    if finished:
        _promote_heads(connection, finished)
    holding.track(connection, kept, now)
    if any(c.decision.status == Status.PENDING for c in kept):
        wake_workers(connection)
    return mine


_STILL_MINE = select(deliveries.c.seq).where(
    deliveries.c.seq.in_(bindparam("seqs", expanding=True)),
    deliveries.c.lease_owner == bindparam("owner"),
    deliveries.c.status == Status.IN_FLIGHT,
)
_INSERT_ATTEMPT = insert(delivery_attempts)


def _attempt_row(job: Job, result: AttemptResult) -> dict[str, Any]:
    return {
        "delivery_seq": job.seq,
        "number": job.attempts + 1,
        "started_at": result.started_at,
        "latency_ms": result.latency_ms,
        "status_code": result.status_code,
        "error": result.error[:ERROR_CHARS] if result.error else None,
        "error_detail": result.error_detail[:ERROR_CHARS] if result.error_detail else None,
        "response_excerpt": result.excerpt[:EXCERPT_CHARS] if result.excerpt is not None else None,
    }


_FINISH = (
    update(deliveries)
    .where(deliveries.c.seq == bindparam("b_seq"))
    .values(
        status=bindparam("b_status"),
        attempts=deliveries.c.attempts + bindparam("b_sent"),
        round_attempts=deliveries.c.round_attempts + bindparam("b_sent"),
        next_attempt_at=bindparam("b_next"),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("b_now"),
        last_status_code=bindparam("b_code"),
        last_error=bindparam("b_error"),
    )
)


def _finish_params(completion: Completion, now: int) -> dict[str, Any]:
    result, decision = completion.result, completion.decision
    error = decision.reason if result is None else (result.error or decision.reason)
    return {
        "b_seq": completion.job.seq,
        "b_status": decision.status,
        "b_sent": 0 if result is None else 1,
        "b_next": decision.retry_at if decision.retry_at is not None else now,
        "b_now": now,
        "b_code": result.status_code if result is not None else None,
        "b_error": error[:ERROR_CHARS] if error else None,
    }


async def release(store: Store, owner: str, seqs: Iterable[int]) -> None:
    """Give back leased deliveries unsent (graceful shutdown): they are due again at once."""
    seqs = list(seqs)
    if not seqs:
        return
    async with store.transaction() as connection:
        await connection.execute(
            update(deliveries)
            .where(
                deliveries.c.seq.in_(seqs), deliveries.c.lease_owner == owner, deliveries.c.status == Status.IN_FLIGHT
            )
            .values(status=Status.PENDING, lease_owner=None, lease_expires_at=None)
        )
        await connection.run_sync(wake_workers)


# --- Housekeeping ----------------------------------------------------------------------------------------------


async def extend_leases(store: Store, owner: str, seqs: list[int], lease_ms: int) -> None:
    """Renew the leases ``owner`` still holds on ``seqs`` (a heartbeat, so long waits are not taken over)."""
    if not seqs:
        return
    async with store.transaction() as connection:
        await connection.execute(
            update(deliveries)
            .where(
                deliveries.c.seq.in_(seqs), deliveries.c.lease_owner == owner, deliveries.c.status == Status.IN_FLIGHT
            )
            .values(lease_expires_at=store.clock() + lease_ms)
        )


async def reclaim_expired(store: Store) -> int:
    """Make deliveries whose worker's lease ran out due again (the worker died or hung)."""
    now = store.clock()
    async with store.transaction() as connection:
        result = await connection.execute(
            update(deliveries)
            .where(deliveries.c.status == Status.IN_FLIGHT, deliveries.c.lease_expires_at < now)
            .values(status=Status.PENDING, lease_owner=None, lease_expires_at=None, next_attempt_at=now)
        )
    return result.rowcount or 0


async def unblock_stalled(store: Store) -> int:
    """Promote the head of every conversation that is blocked with nothing ahead of it, and release what
    installations in retention mode hold for no reason any more (a safety net)."""
    async with store.transaction() as connection:
        unblocked = await _promote_all_stalled(connection)
        return unblocked + await connection.run_sync(holding.reconcile, store.clock())


_NEXT_DUE = select(func.min(deliveries.c.next_attempt_at).label("due")).where(deliveries.c.status == Status.PENDING)
_NEXT_DUE_OF_OTHERS = _NEXT_DUE.where(deliveries.c.installation_id.not_in(bindparam("skip", expanding=True)))


async def next_due_at(store: Store, excluding: frozenset[str] = frozenset()) -> int | None:
    """When the earliest pending delivery is due (ms), or None if nothing is pending; ``excluding`` the
    deliveries of installations the worker cannot claim for now (at their cap: their due backlog must not make it
    poll without pause).

    The worker asks before every sleep, so it is one of the store's inline reads on SQLite.
    """
    if excluding:
        [row] = await store.fetch_all(_NEXT_DUE_OF_OTHERS, {"skip": sorted(excluding)})
    else:
        [row] = await store.fetch_all(_NEXT_DUE, {})
    return int(row.due) if row.due is not None else None


async def queue_depth(store: Store) -> tuple[int, int | None]:
    """How many deliveries are unfinished, and when the oldest of them was created (ms)."""
    async with store.read() as connection:
        row = (
            await connection.execute(
                select(func.count(), func.min(deliveries.c.created_at)).where(deliveries.c.status.in_(UNFINISHED))
            )
        ).one()
    return int(row[0]), (int(row[1]) if row[1] is not None else None)


__all__ = [
    "complete_many",
    "extend_leases",
    "lock_conversations",
    "next_due_at",
    "queue_depth",
    "reclaim_expired",
    "release",
    "take_turn",
    "unblock_stalled",
    "unfinished_pairs",
    "wake_workers",
]
