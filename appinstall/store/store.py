"""The handle every service works through: the engine, the keyring and the clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from appinstall.store.engine import READ_ONLY
from appinstall.store.keyring import Keyring


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Store:
    """What services need to reach the data. ``clock`` returns milliseconds and is replaceable in tests."""

    engine: AsyncEngine
    keyring: Keyring
    clock: Callable[[], int] = field(default=now_ms)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self, reuse: AsyncConnection | None = None) -> AsyncIterator[AsyncConnection]:
        """A connection for reading; on SQLite it does not take the write lock.

        ``reuse`` is a read connection the caller already holds (one per request, see ``accounts.auth``): it is
        lent as it is and left open. Each checkout costs the pool's ping, a ``BEGIN`` and a ``ROLLBACK``, which
        were most of a small request's time.
        """
        if reuse is not None:
            yield reuse
            return
        async with self.engine.connect() as connection:
            await connection.execution_options(**{READ_ONLY: True})
            yield connection

    def transaction(self) -> AsyncContextManager[AsyncConnection]:
        """A connection in a transaction that commits when the block ends (and rolls back on error)."""
        return self.engine.begin()

    async def close(self) -> None:
        await self.engine.dispose()
