"""FastAPI dependencies that resolve the caller and the store from the request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.accounts.models import Principal
from appinstall.accounts.service import Authenticator
from appinstall.errors import Forbidden, Unauthorized
from appinstall.store import Store


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("unauthorized", "send an admin key as 'Authorization: Bearer <key>'")
    return token.strip()


async def _authenticate(request: Request, token: str, connection: AsyncConnection | None) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.authenticate(token, connection)
    if principal is None:
        raise Unauthorized("unauthorized", "the bearer key is not valid (unknown or revoked)")
    return principal


async def get_principal(request: Request) -> Principal:
    return await _authenticate(request, _bearer(request), None)


@dataclass(frozen=True)
class Reading:
    """A read-only request's caller, and the one read connection that its key lookup and every read share."""

    store: Store
    principal: Principal
    connection: AsyncConnection


async def reading(request: Request) -> AsyncIterator[Reading]:
    """Authenticate, and lend one read connection to the whole route, returned when the route function ends.

    Only for routes that do not write: a route that held this connection while it waited for a write connection
    could, with every pooled connection so held, wait for ever.
    """
    token = _bearer(request)
    store: Store = request.app.state.store
    async with store.read() as connection:
        yield Reading(store, await _authenticate(request, token, connection), connection)


async def get_operator(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_operator:
        raise Forbidden("forbidden", "only the operator may do this")
    return principal


StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
OperatorDep = Annotated[Principal, Depends(get_operator)]
ReadingDep = Annotated[Reading, Depends(reading, scope="function")]
