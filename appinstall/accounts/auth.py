"""FastAPI dependencies that resolve the caller and the store from the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from appinstall.accounts.models import Principal
from appinstall.accounts.service import Authenticator
from appinstall.http.problems import ProblemError
from appinstall.store import Store

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="appinstall"'}


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProblemError(
            401, "unauthorized", "send an admin key as 'Authorization: Bearer <key>'", headers=_CHALLENGE
        )
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.authenticate(token.strip())
    if principal is None:
        raise ProblemError(401, "unauthorized", "the bearer key is not valid (unknown or revoked)", headers=_CHALLENGE)
    return principal


async def get_operator(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_operator:
        raise ProblemError(403, "forbidden", "only the operator may do this")
    return principal


StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
OperatorDep = Annotated[Principal, Depends(get_operator)]
