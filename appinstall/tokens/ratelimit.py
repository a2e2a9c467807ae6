"""Limiting failed client authentication per source address, across every API process, without a lock-out.

Counts live in the store in fixed windows, in two buckets per attempt:

- the address's (``per_address``): failures from this address, whatever the client id;
- the client's at this address (``per_client``): failures for this client id from this address.

No bucket counts a client's failures from every address. The client id travels in every webhook's headers, so a
count that any address could fill would let anyone lock the connector out: ten wrong secrets from anywhere and
the right one would get 429 for the rest of the window. Spreading guesses over many addresses gains an attacker
nothing worth a lock-out: a client secret is 256 random bits.

An attempt is refused (429, ``Retry-After``) before its secret is examined while one of its buckets is at its
limit, counting the attempts of this process still in flight (``Reservations``): an attempt reserves its place
before the comparison, so 200 simultaneous guesses cannot all be compared because none of them had failed yet.
A refused attempt is not counted.
A failure is then added with one upsert that returns the new counts; a failure past a limit (another process's
guesses got there first) answers 429 as well, so the answer tells nothing about the secret. Across API processes
(PostgreSQL), each process admits at most the limit's remainder at once, and at most the limit's worth of
failures are ever answered ``invalid_client``.

The counts are read in the one statement the token endpoint runs anyway to read the client (``COUNTS``): the
success path costs two indexed scalar subqueries and no write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, select

from appinstall.store import Store
from appinstall.store.tables import auth_failures
from appinstall.store.upsert import upsert_insert
from appinstall.tokens.errors import OAuthError


def window_start(now_ms: int, window_ms: int) -> int:
    return now_ms - now_ms % window_ms


def retry_after_seconds(now_ms: int, window_ms: int) -> int:
    """Whole seconds until the current window ends (at least 1)."""
    return max(1, -(-(window_start(now_ms, window_ms) + window_ms - now_ms) // 1000))


def _count_of(parameter: str) -> ColumnElement[int]:
    found = (
        select(auth_failures.c.count)
        .where(auth_failures.c.window_start == bindparam("rl_window"), auth_failures.c.bucket == bindparam(parameter))
        .scalar_subquery()
    )
    return func.coalesce(found, 0)


# The failures counted so far in the current window, for the address's bucket and the client's at that address.
# Built once, with bind parameters (see ``FailureLimiter.count_parameters``), so that the token endpoint can fold
# them into the one statement it runs anyway to read the client. A NULL bucket matches no row and counts 0.
ADDRESS_COUNT: ColumnElement[int] = _count_of("rl_address_bucket").label("rl_address_count")
CLIENT_COUNT: ColumnElement[int] = _count_of("rl_client_bucket").label("rl_client_count")
COUNTS = (ADDRESS_COUNT, CLIENT_COUNT)


def address_bucket(address: str | None) -> str | None:
    return f"address:{address[:150]}" if address else None


def client_bucket(client_id: str | None, address: str | None) -> str | None:
    """The client's bucket at one address; none without an address (a failure then counts nowhere per client)."""
    if not client_id or not address:
        return None
    return f"client:{address[:60]}:{client_id[:120]}"


@dataclass(frozen=True)
class Limits:
    per_client: int
    per_address: int
    window_seconds: int


class Reservations:
    """The attempts of this process between their start and their outcome, per bucket.

    An attempt takes its places before it reads the counts and gives them back once its failure (if any) is
    stored, so the failures of this process that a count read may have missed are each still held or were recorded
    here while the read ran (``Ticket.others``). Taking, checking and giving back run on the event loop with no
    ``await`` in between, so each is atomic within the process.
    """

    def __init__(self) -> None:
        self._held: Counter[str] = Counter()
        self._recorded: Counter[str] = Counter()  # failures stored, per bucket, while the bucket is held

    def __len__(self) -> int:
        return len(self._held)

    @contextmanager
    def holding(self, buckets: list[str]) -> Iterator[Ticket]:
        for bucket in buckets:
            self._held[bucket] += 1
        try:
            yield Ticket(self, {bucket: self.recorded_in(bucket) for bucket in buckets})
        finally:
            for bucket in buckets:
                self._held[bucket] -= 1
                if not self._held[bucket]:
                    del self._held[bucket]
                    self._recorded.pop(bucket, None)

    def held(self, bucket: str) -> int:
        return self._held[bucket]

    def recorded_in(self, bucket: str) -> int:
        return self._recorded[bucket]

    def recorded(self, buckets: list[str]) -> None:
        for bucket in buckets:
            self._recorded[bucket] += 1


@dataclass(frozen=True)
class Ticket:
    """One attempt's places, with what had been recorded in its buckets when it took them."""

    reservations: Reservations
    recorded_before: dict[str, int]

    def others(self, bucket: str) -> int:
        """Attempts of this process the count read may not include: those in flight besides this one, and the
        failures recorded since this one took its place (counted twice at worst, never missed)."""
        reservations = self.reservations
        return reservations.held(bucket) - 1 + reservations.recorded_in(bucket) - self.recorded_before[bucket]


@dataclass(frozen=True)
class Attempt:
    """One authentication attempt's buckets and limits."""

    buckets: dict[str, int]  # bucket → its limit

    def admitted(self, counted: dict[str, int], ticket: Ticket) -> bool:
        """Whether every bucket has room for this attempt, given the failures ``counted`` in the store and the
        attempts of this process that the count may miss."""
        return all(counted.get(bucket, 0) + ticket.others(bucket) < limit for bucket, limit in self.buckets.items())


class FailureLimiter:
    def __init__(self, store: Store, limits: Limits) -> None:
        self.store = store
        self.limits = limits
        self.reservations = Reservations()

    @property
    def _window_ms(self) -> int:
        return self.limits.window_seconds * 1000

    def attempt(self, client_id: str | None, address: str | None) -> Attempt:
        limits = {
            address_bucket(address): self.limits.per_address,
            client_bucket(client_id, address): self.limits.per_client,
        }
        return Attempt({bucket: limit for bucket, limit in limits.items() if bucket is not None})

    def count_parameters(self, client_id: str | None, address: str | None, now: int) -> dict[str, Any]:
        """The values of ``COUNTS``' parameters for this client and address at ``now``."""
        return {
            "rl_window": window_start(now, self._window_ms),
            "rl_address_bucket": address_bucket(address),
            "rl_client_bucket": client_bucket(client_id, address),
        }

    @staticmethod
    def counted(client_id: str | None, address: str | None, address_count: int, client_count: int) -> dict[str, int]:
        """``COUNTS``' values, by bucket."""
        found = {address_bucket(address): address_count, client_bucket(client_id, address): client_count}
        return {bucket: count for bucket, count in found.items() if bucket is not None}

    def refusal(self, now: int) -> OAuthError:
        """The 429 to answer while a bucket is exhausted."""
        wait = retry_after_seconds(now, self._window_ms)
        return OAuthError(
            "temporarily_unavailable",
            f"too many failed authentications from this address; retry after {wait} s",
            429,
            {"Retry-After": str(wait)},
        )

    async def record_failure(self, attempt: Attempt) -> bool:
        """Count a failure in each of the attempt's buckets; whether every bucket was still within its limit."""
        if not attempt.buckets:
            return True
        now = self.store.clock()
        start = window_start(now, self._window_ms)
        insert = upsert_insert(self.store.dialect)
        within = True
        async with self.store.transaction() as connection:
            for bucket, limit in attempt.buckets.items():
                statement = insert(auth_failures).values(bucket=bucket, window_start=start, count=1)
                upsert = statement.on_conflict_do_update(
                    index_elements=[auth_failures.c.bucket, auth_failures.c.window_start],
                    set_={"count": auth_failures.c.count + 1},
                ).returning(auth_failures.c.count)
                count = (await connection.execute(upsert)).scalar_one()
                within = within and count <= limit
            await connection.execute(
                delete(auth_failures).where(auth_failures.c.window_start < start - self._window_ms)
            )
        self.reservations.recorded(list(attempt.buckets))
        return within
