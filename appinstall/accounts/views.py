"""HTTP routes for accounts and their admin keys."""

from __future__ import annotations

from fastapi import APIRouter, Response

from appinstall.accounts import service
from appinstall.accounts.models import Account, AccountCreate, KeyCreate, KeyCreated, KeyInfo
from appinstall.http.deps import AccountDep, AccountReadingDep, OperatorDep, StoreDep

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
async def get_account(account_id: str, reading: AccountReadingDep) -> Account:
    return await service.get_account(reading.store, account_id, reading.connection)


@router.post("/{account_id}/keys", status_code=201, response_model=KeyCreated)
async def create_key(account_id: str, account: AccountDep, body: KeyCreate | None = None) -> KeyCreated:
    return await service.create_key(account.store, account_id, body.name if body else None)


@router.get("/{account_id}/keys", response_model=list[KeyInfo])
async def list_keys(account_id: str, reading: AccountReadingDep) -> list[KeyInfo]:
    return await service.list_keys(reading.store, account_id, reading.connection)


@router.delete("/{account_id}/keys/{key_id}", status_code=204)
async def revoke_key(account_id: str, key_id: str, account: AccountDep) -> Response:
    await service.revoke_key(account.store, account_id, key_id)
    return Response(status_code=204)
