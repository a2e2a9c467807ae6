"""The handle every service works through: the engine, the keyring and the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

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

    async def close(self) -> None:
        await self.engine.dispose()
