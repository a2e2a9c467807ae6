"""HTTP routes for accounts and their admin keys."""

from __future__ import annotations

from fastapi import APIRouter, Response

from appinstall.accounts import service
from appinstall.accounts.auth import OperatorDep, PrincipalDep, ReadingDep, StoreDep
from appinstall.accounts.models import Account, AccountCreate, KeyCreate, KeyCreated, KeyInfo

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


@router.post("", status_code=201, response_model=Account)
async def create_account(body: AccountCreate, store: StoreDep, _: OperatorDep, response: Response) -> Account:
    account = await service.create_account(store, body.id)
    response.headers["Location"] = f"/api/accounts/{account.id}"
    return account


@router.get("", response_model=list[Account])
async def list_accounts(store: StoreDep, _: OperatorDep) -> list[Account]:
    return await service.list_accounts(store)


@router.get("/{account_id}", response_model=Account)
async def get_account(account_id: str, reading: ReadingDep) -> Account:
    await service.require_account(reading.store, reading.principal, account_id, reading.connection)
    return await service.get_account(reading.store, account_id, reading.connection)


@router.post("/{account_id}/keys", status_code=201, response_model=KeyCreated)
async def create_key(
    account_id: str, store: StoreDep, principal: PrincipalDep, body: KeyCreate | None = None
) -> KeyCreated:
    await service.require_account(store, principal, account_id)
    return await service.create_key(store, account_id, body.name if body else None)


@router.get("/{account_id}/keys", response_model=list[KeyInfo])
async def list_keys(account_id: str, reading: ReadingDep) -> list[KeyInfo]:
    await service.require_account(reading.store, reading.principal, account_id, reading.connection)
    return await service.list_keys(reading.store, account_id, reading.connection)


@router.delete("/{account_id}/keys/{key_id}", status_code=204)
async def revoke_key(account_id: str, key_id: str, store: StoreDep, principal: PrincipalDep) -> Response:
    await service.require_account(store, principal, account_id)
    await service.revoke_key(store, account_id, key_id)
    return Response(status_code=204)
