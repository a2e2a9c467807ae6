"""What routes take from the application, typed: its state, and the FastAPI dependencies built on it.

``app.py`` makes one ``AppState`` and fills it (settings and the send limiter at once, the store and the services
when the application starts); routes read it through ``app_state`` or, better, take what they need as a
dependency (``StoreDep``, ``SettingsDep``, ``TokensDep``, …), so no route reaches into ``request.app.state``.

Who may act on an account is decided here once: ``AccountDep`` (and ``AccountReadingDep`` for routes that only
read) authenticates the bearer credential and checks it against the path's ``account_id`` — the operator may act
on every existing account, an admin key on its own — answering 401 without a valid credential and 404 for an
account the caller may not see, exactly like a missing one. These dependencies take only the request and path
parameters the route already has, so they add no parameter to the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import State

from appinstall.accounts.models import Principal
from appinstall.accounts.service import Authenticator
from appinstall.errors import Forbidden, Unauthorized
from appinstall.sandbox.agents import SandboxAgents
from appinstall.sandbox.ratelimit import SendLimiter
from appinstall.settings import Settings
from appinstall.store import Store
from appinstall.tokens.service import TokenService
from appinstall.webhooks.worker import Worker


class AppState(State):
    """The application's shared objects, one attribute each, typed. It is the application's ``app.state`` itself
    (a Starlette ``State``), so what a test reads or replaces there is what the routes see."""

    settings: Settings
    send_limiter: SendLimiter
    store: Store
    authenticator: Authenticator
    tokens: TokenService
    worker: Worker | None
    agents: SandboxAgents


def app_state(request: Request) -> AppState:
    """The state of the application serving ``request``: the one way routes reach it."""
    state = request.app.state
    assert isinstance(state, AppState), "the application was not made by appinstall.app.create_app"
    return state


# Async on purpose, every one: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off per request.


async def get_settings(request: Request) -> Settings:
    return app_state(request).settings


async def get_store(request: Request) -> Store:
    return app_state(request).store


async def get_tokens(request: Request) -> TokenService:
    return app_state(request).tokens


async def get_agents(request: Request) -> SandboxAgents:
    return app_state(request).agents


async def get_send_limiter(request: Request) -> SendLimiter:
    return app_state(request).send_limiter


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
TokensDep = Annotated[TokenService, Depends(get_tokens)]
AgentsDep = Annotated[SandboxAgents, Depends(get_agents)]
SendLimiterDep = Annotated[SendLimiter, Depends(get_send_limiter)]


# --- The caller ------------------------------------------------------------------------------------------------


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("unauthorized", "send an admin key as 'Authorization: Bearer <key>'")
    return token.strip()


async def _authenticate(request: Request, token: str, connection: AsyncConnection | None) -> Principal:
    principal = await app_state(request).authenticator.authenticate(token, connection)
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
    store = app_state(request).store
    async with store.read() as connection:
        yield Reading(store, await _authenticate(request, token, connection), connection)


async def get_operator(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_operator:
        raise Forbidden("forbidden", "only the operator may do this")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
OperatorDep = Annotated[Principal, Depends(get_operator)]
ReadingDep = Annotated[Reading, Depends(reading, scope="function")]


# --- The account of the path -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountAccess:
    """The path's account, which the caller may act on: the store to act in, and who acts (for the audit trail)."""

    account_id: str
    principal: Principal
    store: Store

    @property
    def actor(self) -> str:
        return self.principal.actor


async def account_access(account_id: str, request: Request) -> AccountAccess:
    """The caller, allowed to act on the path's account (or 401, or 404 as for a missing account).

    One dependency, not three (the store, the principal, the check): FastAPI's resolution of each costs more than
    what it resolves, and this one is on every publish.
    """
    state = app_state(request)
    principal = await _authenticate(request, _bearer(request), None)
    await state.authenticator.require_account(principal, account_id)
    return AccountAccess(account_id, principal, state.store)


async def account_reading(account_id: str, request: Request, reading: ReadingDep) -> Reading:
    """``account_access`` for a route that only reads: the check uses the request's one read connection."""
    await app_state(request).authenticator.require_account(reading.principal, account_id, reading.connection)
    return reading


AccountDep = Annotated[AccountAccess, Depends(account_access)]
AccountReadingDep = Annotated[Reading, Depends(account_reading)]
