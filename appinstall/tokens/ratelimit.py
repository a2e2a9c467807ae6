"""Limiting failed client authentication per source address, across every API process, without a lock-out.

Counts live in the store in fixed windows, in two buckets per attempt:

- the address's (``per_address``): failures from this address, whatever the client id;
- the client's at this address (``per_client``): failures for this client id from this address.

No bucket counts a client's failures from every address. The client id travels in every webhook's headers, so a
count that any address could fill would let anyone lock the connector out: ten wrong secrets from anywhere and
the right one would get 429 for the rest of the window. Spreading guesses over many addresses gains an attacker
nothing worth a lock-out: a client secret is 256 random bits.

An attempt is refused (429, ``Retry-After``) before its secret is examined while one of its buckets is at its
limit, counting the attempts of this process admitted and not yet ended (``Reservations``): an attempt takes its
place before the comparison, so 200 simultaneous guesses cannot all be compared because none of them had failed
yet. A refused attempt is not counted. A failure is then added with one upsert that returns the new counts; a
failure past a limit (another process's guesses got there first) answers 429 as well, so the answer tells nothing
about the secret. Across API processes (PostgreSQL), each process admits at most the limit's remainder at once,
and at most the limit's worth of failures are ever answered ``invalid_client``.

An attempt that finds room in the store but none left by the attempts in flight (which may yet succeed) waits for
one of them to end and looks again, for at most ``WAIT_FOR_ROOM_SECONDS`` (then 429 with ``Retry-After: 1``). A
right secret is compared without an ``await``, so its place is held for no time: a connector's burst of right
secrets is not held up by itself.

The counts are read in the one statement the token endpoint runs anyway to read the client (``COUNTS``): the
success path costs two indexed scalar subqueries and no write.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, bindparam, delete, func, select

from appinstall.store import Store
from appinstall.tokens.errors import OAuthError
from appinstall.tokens.tables import auth_failures

# How long an attempt waits for attempts in flight to make room, and how many times it looks again.
WAIT_FOR_ROOM_SECONDS: Final = 2.0
MAX_LOOKS: Final = 20


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
    """This process's attempts, per bucket: those admitted and not yet ended (comparing, or storing their failure),
    and the failures stored while an attempt was looking.

    An attempt starts looking (``looking``) before it reads the counts, then is admitted (``Ticket.admit``) if the
    counts, the admitted attempts and the failures stored since it started looking leave room: a failure of this
    process that its read may have missed is either still admitted or was stored while it looked. Checking and
    admitting run on the event loop with no ``await`` in between, so they are atomic within the process.
    """

    def __init__(self) -> None:
        self._admitted: Counter[str] = Counter()
        self._looking: Counter[str] = Counter()  # attempts started and not ended, admitted or not
        self._recorded: Counter[str] = Counter()  # failures stored, per bucket, while some attempt is looking
        self._released: dict[str, asyncio.Event] = {}  # set when an admitted attempt ends

    def __len__(self) -> int:
        return len(self._looking)

    @contextmanager
    def looking(self, buckets: list[str]) -> Iterator[Ticket]:
        for bucket in buckets:
            self._looking[bucket] += 1
        ticket = Ticket(self, buckets, {bucket: self._recorded[bucket] for bucket in buckets})
        try:
            yield ticket
        finally:
            for bucket in buckets:
                self._looking[bucket] -= 1
                if not self._looking[bucket]:
                    del self._looking[bucket]
                    self._recorded.pop(bucket, None)
                if ticket.admitted:
                    self._admitted[bucket] -= 1
                    if not self._admitted[bucket]:
                        del self._admitted[bucket]
                    released = self._released.pop(bucket, None)
                    if released is not None:
                        released.set()

    def admitted_in(self, bucket: str) -> int:
        return self._admitted[bucket]

    def recorded_in(self, bucket: str) -> int:
        return self._recorded[bucket]

    def admit(self, buckets: list[str]) -> None:
        for bucket in buckets:
            self._admitted[bucket] += 1

    def recorded(self, buckets: list[str]) -> None:
        for bucket in buckets:
            self._recorded[bucket] += 1

    async def released(self, buckets: list[str], timeout: float) -> None:
        """Return once an admitted attempt in one of ``buckets`` ends, or after ``timeout`` seconds."""
        events = [self._released.setdefault(bucket, asyncio.Event()) for bucket in buckets if self._admitted[bucket]]
        if not events:
            return
        waits = [asyncio.ensure_future(event.wait()) for event in events]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()


class Ticket:
    """One attempt's look at its buckets: what had been recorded in them when it started, and whether it was
    admitted."""

    def __init__(self, reservations: Reservations, buckets: list[str], recorded_before: dict[str, int]) -> None:
        self.reservations = reservations
        self.buckets = buckets
        self.recorded_before = recorded_before
        self.admitted = False

    def others(self, bucket: str) -> int:
        """Attempts of this process the count read may not include: those admitted and not ended, and the
        failures stored since this one started looking (counted twice at worst, never missed)."""
        reservations = self.reservations
        return reservations.admitted_in(bucket) + reservations.recorded_in(bucket) - self.recorded_before[bucket]

    def admit(self) -> None:
        """Take this attempt's place in each bucket, until it ends."""
        if not self.admitted:
            self.admitted = True
            self.reservations.admit(self.buckets)


@dataclass(frozen=True)
class Attempt:
    """One authentication attempt's buckets and limits."""

    buckets: dict[str, int]  # bucket → its limit

    def within(self, counted: dict[str, int]) -> bool:
        """Whether the failures ``counted`` in the store leave room in every bucket (attempts in flight aside)."""
        return all(counted.get(bucket, 0) < limit for bucket, limit in self.buckets.items())

    def admit(self, counted: dict[str, int], ticket: Ticket) -> bool:
        """Admit the attempt if every bucket has room for it, given the failures ``counted`` in the store and the
        attempts of this process that the count may miss; whether it was."""
        if all(counted.get(bucket, 0) + ticket.others(bucket) < limit for bucket, limit in self.buckets.items()):
            ticket.admit()
        return ticket.admitted


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

    @staticmethod
    def busy() -> OAuthError:
        """The 429 to answer when the attempts in flight from this address did not make room in time."""
        return OAuthError(
            "temporarily_unavailable",
            "too many authentications in flight from this address; retry after 1 s",
            429,
            {"Retry-After": "1"},
        )

    async def record_failure(self, attempt: Attempt) -> bool:
        """Count a failure in each of the attempt's buckets; whether every bucket was still within its limit."""
        if not attempt.buckets:
            return True
        now = self.store.clock()
        start = window_start(now, self._window_ms)
        within = True
        async with self.store.transaction() as connection:
            for bucket, limit in attempt.buckets.items():
                statement = self.store.dialect.upsert(auth_failures).values(bucket=bucket, window_start=start, count=1)
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
