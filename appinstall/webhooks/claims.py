"""Claiming due deliveries: lease them to one worker, then load what sending them needs.

A claim is fair (``fairness``): it counts what each installation has claimed, reads the earliest due deliveries
(past those of installations at their cap, when the worker asks), takes installations in turn, and leases what it
chose (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). Claims take turns, on PostgreSQL by an advisory lock held to commit
(so the cap holds across worker processes), on SQLite by the write lock; each is a few short statements. The
transaction only leases; what sending needs (bodies, installation state, secrets, subscriptions) is read after it
commits, when the rows are ours, so the write lock is held briefly and, on SQLite, the reads run inline. What the
registry and the accounts own (installations' state, secrets and manifests, the account's signature choice) is
asked of their services, not joined.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import Connection, and_, bindparam, func, select, update

from appinstall.accounts import service as accounts
from appinstall.connector.signing import Algorithm, Encoding
from appinstall.manifest.routes import Routes, routes_of
from appinstall.registry import service as registry
from appinstall.settings import Settings
from appinstall.store import Store, fetch_in
from appinstall.store.dialect import dialect_of
from appinstall.store.outage import is_store_outage, retried_while_out_of_reach
from appinstall.webhooks import fairness, queue
from appinstall.webhooks.models import Job, Status
from appinstall.webhooks.policy import Budget
from appinstall.webhooks.tables import deliveries, notifications, webhook_health

# What sending a claimed delivery needs, read after the claim commits (the claim's own transaction stays short,
# and on SQLite these run inline): the deliveries with their bodies and their webhooks' health here; their
# installations' state and secrets, the manifests of installations whose current revision is not cached yet, and
# the accounts' signature choices from the registry and the accounts.
_CLAIMED = (
    select(
        deliveries.c.seq,
        deliveries.c.id,
        deliveries.c.account_id,
        deliveries.c.installation_id,
        deliveries.c.event_type,
        deliveries.c.conversation_id,
        deliveries.c.attempts,
        deliveries.c.round_attempts,
        deliveries.c.round_started_at,
        notifications.c.body,
        webhook_health.c.disabled_at,
        webhook_health.c.disabled_reason,
    )
    .join(notifications, notifications.c.id == deliveries.c.notification_id)
    .outerjoin(
        webhook_health,
        and_(
            webhook_health.c.installation_id == deliveries.c.installation_id,
            webhook_health.c.event_type == deliveries.c.event_type,
        ),
    )
    .where(deliveries.c.seq.in_(bindparam("seqs", expanding=True)))
    .order_by(deliveries.c.seq)
)


class Subscriptions:
    """Each installation's routes (``manifest.routes``), projected from its manifest once per revision of it.

    Decoding a manifest's JSON for every delivery was about 6 % of a worker's time, and its routes were built again
    for each delivery too; an installation's revision changes with every update of it, so a cached entry is never
    stale. Bounded: the least recently added go first.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._entries: dict[tuple[str, int], Routes] = {}

    def get(self, installation_id: str, revision: int) -> Routes | None:
        return self._entries.get((installation_id, revision))

    def put(self, installation_id: str, revision: int, manifest: dict[str, Any]) -> Routes:
        routes = routes_of(manifest)
        if len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[(installation_id, revision)] = routes
        return routes


# The cap by the default per-host limit, for claims made outside a worker (tests, tools).
GIVE_BACK_DELAYS: Final = (0.2, 0.5, 1.0, 2.0)  # tries to give back a claim whose jobs could not be loaded
DEFAULT_CAP: Final = fairness.claim_cap(Settings.model_fields["webhook_per_host_concurrency"].default)


@dataclass(frozen=True, slots=True)
class Claimed:
    """What one claim leased, and which installations are at their cap after it (nothing more of theirs can be
    claimed until one of their deliveries is recorded): the worker does not wait for those to fall due."""

    jobs: list[Job]
    full: frozenset[str]
    # Whether it looked past the installations it could not take more of, and found nothing there: until more is
    # published (or a while passes), looking again would only read their backlog again.
    nothing_past: bool = False
    looked_seconds: float = 0.0  # how long that look took (0 when it did not look)


async def claim(
    store: Store,
    owner: str,
    limit: int,
    lease_ms: int,
    subscriptions: Subscriptions | None = None,
    *,
    cap: int | None = None,
) -> list[Job]:
    """Lease up to ``limit`` due deliveries to ``owner``, fairly (see ``claim_fairly``), and load them."""
    return (await claim_fairly(store, owner, limit, lease_ms, subscriptions, cap=cap or DEFAULT_CAP)).jobs


async def claim_fairly(
    store: Store,
    owner: str,
    limit: int,
    lease_ms: int,
    subscriptions: Subscriptions | None = None,
    *,
    cap: int,
    skip: frozenset[str] = frozenset(),
    look_past: bool = True,
) -> Claimed:
    """Lease up to ``limit`` due deliveries to ``owner``, taking installations in turn and none beyond ``cap``
    claimed at once (nor any of ``skip``), and load what sending them needs.

    The earliest due deliveries come first; when they are all of installations it cannot take (more of), and
    ``look_past``, it reads on past them. That costs a read of their due backlog, so the worker asks for it when
    something was published, or now and then (see ``Worker``)."""
    now = store.clock()
    seqs, full, looked = await store.run_transaction(_lease, owner, limit, now, lease_ms, cap, skip, look_past)
    if not seqs:
        return Claimed([], full, *looked)
    # The leases are ours now: nobody else changes these rows until they expire. Should the store fail before the
    # jobs are loaded, they are given back, or they would wait a whole lease (holding their installation's share).
    try:
        jobs = await _load(store, seqs, now, subscriptions or Subscriptions())
    except Exception as error:
        if is_store_outage(error):
            await _give_back(store, owner, seqs)
        raise
    return Claimed(jobs, full, *looked)


async def _give_back(store: Store, owner: str, seqs: list[int]) -> None:
    with contextlib.suppress(Exception):  # best effort: failing that, the leases expire
        await retried_while_out_of_reach(lambda: queue.release(store, owner, seqs), GIVE_BACK_DELAYS)


async def _load(store: Store, seqs: list[int], now: int, subscriptions: Subscriptions) -> list[Job]:
    async with store.reading() as reading:
        rows = await reading.fetch_all(_CLAIMED, {"seqs": seqs})
        installation_ids = sorted({row.installation_id for row in rows})
        targets = await registry.targets(reading, installation_ids, now)
        signatures = await accounts.signatures_of(reading, sorted({row.account_id for row in rows}))
        missing = sorted({key for key, target in targets.items() if subscriptions.get(key, target.revision) is None})
        manifests = await registry.manifests(reading, missing) if missing else {}
    fetched = {key: subscriptions.put(key, revision, manifest) for key, (revision, manifest) in manifests.items()}
    # Every delivery's installation and account exist (foreign keys, and neither is ever removed); one that did
    # not would be skipped, as the join that read them all at once did.
    return [
        _job(
            now,
            row,
            target,
            subscriptions.get(row.installation_id, target.revision) or fetched.get(row.installation_id) or Routes(),
            signatures[row.account_id],
        )
        for row in rows
        if (target := targets.get(row.installation_id)) is not None and row.account_id in signatures
    ]


# Claims take turns (``Dialect.lock``: on PostgreSQL a transaction-level advisory lock, released at commit): each
# then counts what every installation has claimed after the last claim committed, so the cap holds across worker
# processes. A claim is a few short statements; SQLite's write lock serializes claims anyway.
_CLAIM_LOCK_KEY = int.from_bytes(hashlib.blake2b(b"appinstall.claims", digest_size=8).digest(), "big", signed=True)
# What each installation has claimed now: the in-flight rows (a few hundred per worker), by the status index.
_CLAIMED_COUNTS = (
    select(deliveries.c.installation_id, func.count().label("claimed"))
    .where(deliveries.c.status == Status.IN_FLIGHT)
    .group_by(deliveries.c.installation_id)
)
# The earliest due deliveries: the first rows of the status index. Read without locking them (most are not
# chosen; claims take turns anyway); the lease locks what was chosen.
_DUE = (
    select(deliveries.c.seq, deliveries.c.installation_id)
    .where(deliveries.c.status == Status.PENDING, deliveries.c.next_attempt_at <= bindparam("now"))
    .order_by(deliveries.c.next_attempt_at, deliveries.c.seq)
    .limit(bindparam("window"))
)
# The same past the installations a claim cannot take: it walks their due backlog in the index to get there.
_DUE_OF_OTHERS = _DUE.where(deliveries.c.installation_id.not_in(bindparam("skip", expanding=True)))
# The chosen rows that are still pending; one another transaction holds (being held for retention mode, say) is
# skipped rather than waited for.
_CHOSEN = (
    select(deliveries.c.seq)
    .where(deliveries.c.seq.in_(bindparam("seqs", expanding=True)), deliveries.c.status == Status.PENDING)
    .with_for_update(skip_locked=True)
)
_LEASE = (
    update(deliveries)
    .where(deliveries.c.seq.in_(_CHOSEN.scalar_subquery()))
    .values(status=Status.IN_FLIGHT, lease_owner=bindparam("owner"), lease_expires_at=bindparam("until"))
    .returning(deliveries.c.seq)
)
# Where one writer at a time holds the database (``Dialect.single_writer``: SQLite) the claim's write lock has kept
# every other writer out since the window was read, so what it chose is still pending; and a status condition here
# made SQLite's planner (which has no statistics) walk the status index, all of the backlog, instead of looking the
# seqs up: 0.15 s a claim with a million queued.
_LEASE_LOCKED = (
    update(deliveries)
    .where(deliveries.c.seq.in_(bindparam("seqs", expanding=True)))
    .values(status=Status.IN_FLIGHT, lease_owner=bindparam("owner"), lease_expires_at=bindparam("until"))
    .returning(deliveries.c.seq)
)


def _lease(
    connection: Connection,
    owner: str,
    limit: int,
    now: int,
    lease_ms: int,
    cap: int,
    skip: frozenset[str],
    look_past: bool,
) -> tuple[list[int], frozenset[str], tuple[bool, float]]:
    """Lease up to ``limit`` due deliveries to ``owner`` as ``fairness.choose`` picks them: their seqs, the
    installations at their cap afterwards, and whether it looked past those it could not take and found nothing,
    with how long that look took."""
    dialect = dialect_of(connection)
    dialect.lock(connection, [_CLAIM_LOCK_KEY])
    claimed = {row.installation_id: int(row.claimed) for row in fetch_in(connection, _CLAIMED_COUNTS, {})}
    full = fairness.at_cap(claimed, cap)
    if limit <= 0:
        return [], full, (False, 0.0)
    window = fairness.window(limit)
    rows = fetch_in(connection, _DUE, {"now": now, "window": window})
    candidates = [(row.seq, row.installation_id) for row in rows if row.installation_id not in skip]
    chosen = fairness.choose(candidates, claimed, cap=cap, limit=limit)
    looked = (False, 0.0)
    if len(chosen) < limit and len(rows) == window and look_past:
        # The window was full and gave too little: the earliest due are of installations it cannot take.
        started = time.perf_counter()
        parameters = {"now": now, "window": window, "skip": sorted(full | skip)}
        candidates = [(row.seq, row.installation_id) for row in fetch_in(connection, _DUE_OF_OTHERS, parameters)]
        looked = (not candidates, time.perf_counter() - started)
        chosen = fairness.choose(candidates, claimed, cap=cap, limit=limit)
    if not chosen:
        return [], full, looked
    owners = dict(candidates)
    full = fairness.at_cap(fairness.after(claimed, (owners[seq] for seq in chosen)), cap)
    lease = _LEASE_LOCKED if dialect.single_writer else _LEASE
    leased = connection.execute(lease, {"seqs": chosen, "owner": owner, "until": now + lease_ms})
    return list(leased.scalars().all()), full, looked


_NOT_SUBSCRIBED = Budget(max_retries=0)


def _job(now: int, row: Any, target: registry.Target, routes: Routes, signature: accounts.StoredSignature) -> Job:
    route = routes.get(row.event_type)
    secrets = target.secrets
    refusal = None
    retention = None if route is None else route.retention_time
    if target.deleted:
        refusal = "the installation was deleted"
    elif not target.enabled:
        refusal = "the installation is disabled"
    elif route is None:
        refusal = f"the installation no longer subscribes to {row.event_type}"
    elif row.disabled_at is not None:
        refusal = f"the webhook is disabled: {row.disabled_reason}"
    elif not secrets:
        refusal = "the installation has no client secret to sign with"
    elif retention is not None and row.round_attempts == 0 and now > row.round_started_at + retention * 1000:
        # held while the installation was failing, for longer than the manifest keeps notifications
        refusal = f"the retention time of {retention} s passed before it could be sent"
    return Job(
        seq=row.seq,
        id=row.id,
        account_id=row.account_id,
        installation_id=row.installation_id,
        event_type=row.event_type,
        conversation_id=row.conversation_id,
        body=row.body,
        attempts=row.attempts,
        round_attempts=row.round_attempts,
        round_started_at=row.round_started_at,
        endpoint=None if route is None else route.endpoint,
        headers={} if route is None else route.headers,
        budget=_NOT_SUBSCRIBED if route is None else Budget(route.max_retries, route.retention_time),
        secrets=secrets,
        refusal=refusal,
        signature_algorithm=cast(Algorithm, signature.algorithm),
        signature_encoding=cast(Encoding, signature.encoding),
    )


__all__ = ["DEFAULT_CAP", "Claimed", "Subscriptions", "claim", "claim_fairly"]
