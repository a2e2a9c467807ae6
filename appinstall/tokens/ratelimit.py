"""Limiting failed client authentication, per client and per source address, across every API process.

Counts live in the store in fixed windows: a failure increments its buckets with one upsert, and a request is
refused (429, ``Retry-After``) while a bucket of the current window is at its limit. Checking happens before the
secret is examined, so a client under attack is refused even with the right secret until the window ends: that is
what stops guessing.

The check is an SQL condition (``EXHAUSTED``) so that the token endpoint can fold it into the one query it runs
anyway to read the client: on the success path the limit then costs an indexed ``EXISTS``, not a round trip of
its own, and it still reads the shared table, so it holds across processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, exists, or_

from appinstall.store import Store
from appinstall.store.tables import auth_failures
from appinstall.store.upsert import upsert_insert
from appinstall.tokens.errors import OAuthError


def window_start(now_ms: int, window_ms: int) -> int:
    return now_ms - now_ms % window_ms


def retry_after_seconds(now_ms: int, window_ms: int) -> int:
    """Whole seconds until the current window ends (at least 1)."""
    return max(1, -(-(window_start(now_ms, window_ms) + window_ms - now_ms) // 1000))


# True while the client's or the address's bucket of the current window is at its limit. Built once, with bind
# parameters (see ``FailureLimiter.exhausted_parameters``), so that the token endpoint can fold it into the one
# statement it runs anyway to read the client.
EXHAUSTED: ColumnElement[bool] = exists().where(
    auth_failures.c.window_start == bindparam("rl_window"),
    or_(
        and_(
            auth_failures.c.bucket == bindparam("rl_client_bucket"),
            auth_failures.c.count >= bindparam("rl_client_limit"),
        ),
        and_(
            auth_failures.c.bucket == bindparam("rl_address_bucket"),
            auth_failures.c.count >= bindparam("rl_address_limit"),
        ),
    ),
)


def client_bucket(client_id: str | None) -> str | None:
    return f"client:{client_id[:150]}" if client_id else None


def address_bucket(address: str | None) -> str | None:
    return f"address:{address[:150]}" if address else None


@dataclass(frozen=True)
class Limits:
    per_client: int
    per_address: int
    window_seconds: int


class FailureLimiter:
    def __init__(self, store: Store, limits: Limits) -> None:
        self.store = store
        self.limits = limits

    @property
    def _window_ms(self) -> int:
        return self.limits.window_seconds * 1000

    def _buckets(self, client_id: str | None, address: str | None) -> dict[str, int]:
        """The buckets a failure of this client from this address counts in, with their limits."""
        limits = {client_bucket(client_id): self.limits.per_client, address_bucket(address): self.limits.per_address}
        return {bucket: limit for bucket, limit in limits.items() if bucket is not None}

    def exhausted_parameters(self, client_id: str | None, address: str | None, now: int) -> dict[str, Any]:
        """The values of ``EXHAUSTED``'s parameters for this client and address at ``now``.

        A missing client id or address leaves its bucket NULL, which matches no row.
        """
        return {
            "rl_window": window_start(now, self._window_ms),
            "rl_client_bucket": client_bucket(client_id),
            "rl_client_limit": self.limits.per_client,
            "rl_address_bucket": address_bucket(address),
            "rl_address_limit": self.limits.per_address,
        }

    def refusal(self, now: int) -> OAuthError:
        """The 429 to answer while a bucket is exhausted."""
        wait = retry_after_seconds(now, self._window_ms)
        return OAuthError(
            "temporarily_unavailable",
            f"too many failed authentications; retry after {wait} s",
            429,
            {"Retry-After": str(wait)},
        )

    async def record_failure(self, client_id: str | None, address: str | None) -> None:
        buckets = self._buckets(client_id, address)
        if not buckets:
            return
        now = self.store.clock()
        start = window_start(now, self._window_ms)
        insert = upsert_insert(self.store.dialect)
        async with self.store.transaction() as connection:
            for bucket in buckets:
                statement = insert(auth_failures).values(bucket=bucket, window_start=start, count=1)
                await connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=[auth_failures.c.bucket, auth_failures.c.window_start],
                        set_={"count": auth_failures.c.count + 1},
                    )
                )
            await connection.execute(
                delete(auth_failures).where(auth_failures.c.window_start < start - self._window_ms)
            )
