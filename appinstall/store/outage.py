"""Whether an error means the database is out of reach (try again shortly) rather than that a statement was wrong.

The HTTP API answers the first with 503 (``http/store_errors.py``); the webhook worker tries again what it must not
leave half done (recording attempts, giving back a claim). Every other error is a bug and is not retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

T = TypeVar("T")


def is_store_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached or used, rather than that the statement was wrong."""
    if isinstance(error, PoolTimeoutError | ConnectionError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return False


async def retried_while_out_of_reach(
    work: Callable[[], Awaitable[T]], delays: Sequence[float], *, waiting: Callable[[float], None] | None = None
) -> T:
    """``work()``, tried again after each of ``delays`` while it fails because the store is out of reach (``waiting``
    hears of each wait); any other error, or the failure of the last try, is raised."""
    for delay in delays:
        try:
            return await work()
        except Exception as error:
            if not is_store_outage(error):
                raise
            if waiting is not None:
                waiting(delay)
        await asyncio.sleep(delay)
    return await work()
