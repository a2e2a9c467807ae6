"""The receiving end in web frameworks: a FastAPI dependency and a Flask helper over ``receiving.verify``, with
its safe default (the timestamped signature required; see ``verify``'s ``scheme``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from starlette.exceptions import HTTPException
from starlette.requests import Request

from appinstall.connector.receiving import Notification, Scheme, WebhookVerificationError, verify


def fastapi_verifier(
    secret: str | Sequence[str], *, scheme: Scheme = "any", tolerance: int = 300
) -> Callable[[Request], Awaitable[Notification]]:
    """A FastAPI dependency (``Depends(fastapi_verifier(secret))``) giving the verified notification, or 401.

    Plain Starlette can ``await`` it in an endpoint: the ``HTTPException`` it raises is Starlette's.
    """

    async def verified_notification(request: Request) -> Notification:
        body = await request.body()
        try:
            return verify(body, request.headers, secret, scheme=scheme, tolerance=tolerance)
        except WebhookVerificationError as error:
            raise HTTPException(status_code=401, detail=error.reason) from None

    return verified_notification


class _Headers(Protocol):
    def items(self) -> Any: ...


class FlaskLikeRequest(Protocol):
    """What ``flask_verify`` uses of ``flask.request``, so that this module does not need Flask."""

    @property
    def headers(self) -> _Headers: ...

    def get_data(self) -> bytes: ...


def flask_verify(
    request: FlaskLikeRequest, secret: str | Sequence[str], *, scheme: Scheme = "any", tolerance: int = 300
) -> Notification:
    """Verify ``flask.request`` and return the notification; raises ``WebhookVerificationError`` (answer 401)."""
    headers: dict[str, str] = dict(request.headers.items())
    return verify(request.get_data(), headers, secret, scheme=scheme, tolerance=tolerance)
