"""Whether an error means the database is out of reach (try again shortly) rather than that a statement was wrong.

The HTTP API answers the first with 503 (``http/store_errors.py``); the webhook recorder tries the write again. Every
other error is a bug and is not retried.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


def is_store_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached or used, rather than that the statement was wrong."""
    if isinstance(error, PoolTimeoutError | ConnectionError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return False
