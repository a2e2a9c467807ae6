"""The store out of reach answers 503, not 500: a lost database connection is the service's trouble, not a bug.

PostgreSQL restarting or failing over, a connection dropped by a proxy, SQLite's file locked past the busy
timeout or its disk full: the request's transaction did not commit (in the rare case the connection broke during
the commit itself, it may have), and the same request sent again shortly will most likely succeed. So the answer
says that: 503 with ``Retry-After``, as problem details, carrying ``"error": "temporarily_unavailable"`` too, which
OAuth 2.0 clients of the token endpoints read (RFC 6749 §4.1.2.1). The connection pool checks connections before
use, so the next request gets a fresh one without a restart. Every other exception stays a 500: it is a bug.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from appinstall.http.problems import ExceptionHandlers, problem_response
from appinstall.store.outage import is_store_outage

log = logging.getLogger("appinstall.store")

RETRY_AFTER_SECONDS = 1


def _reason(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).splitlines()[0][:200]


async def _on_store_error(request: Request, error: Exception) -> JSONResponse:
    if not is_store_outage(error):
        raise error
    reason = _reason(error)
    if "disk is full" in reason:  # SQLITE_FULL: nothing heals it but an operator freeing space
        log.error("the database's disk is full: %s %s refused with 503; free space", request.method, request.url.path)
        detail = "the database's disk is full; nothing was stored: send the request again once space is freed"
    else:
        log.warning("the store was out of reach during %s %s: %s", request.method, request.url.path, reason)
        detail = "the database could not be reached; nothing was changed by this request: send it again shortly"
    return problem_response(
        503,
        "store-unavailable",
        detail,
        instance=request.url.path,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        error="temporarily_unavailable",
    )


STORE_EXCEPTION_HANDLERS: ExceptionHandlers = {
    DBAPIError: _on_store_error,
    PoolTimeoutError: _on_store_error,
    ConnectionError: _on_store_error,
}
