"""Accounts, admin keys and the operator credential, over the store."""

from __future__ import annotations

import secrets

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.accounts import credentials
from appinstall.accounts.models import OPERATOR, Account, KeyCreated, KeyInfo, Principal
from appinstall.accounts.signatures import StoredSignature as StoredSignature
from appinstall.accounts.signatures import set_signature as set_signature
from appinstall.accounts.signatures import signature_of as signature_of
from appinstall.accounts.signatures import signatures_of as signatures_of
from appinstall.accounts.tables import accounts, admin_keys, operator_credentials
from appinstall.errors import Conflict, NotFound
from appinstall.store import Store
from appinstall.store.store import Reading

MAX_KNOWN_ACCOUNTS = 10_000
"""Accounts the authenticator remembers as existing, at most (then it starts again): a bound on its memory."""


class Authenticator:
    """Recognises bearer tokens. The operator's hash is read once at start; admin keys are looked up by hash."""

    def __init__(self, store: Store, operator_hash: str) -> None:
        self.store = store
        self.operator_hash = operator_hash
        # Accounts known to exist. An account is never removed, so a hit stays true; the operator's every request
        # names one, and on PostgreSQL asking cost a pooled connection's ping and query (a quarter of a publish).
        self._known_accounts: set[str] = set()

    async def require_account(
        self, principal: Principal, account_id: str, connection: AsyncConnection | None = None
    ) -> None:
        """``require_account``, remembering which accounts exist."""
        if account_id in self._known_accounts and principal.may_access(account_id):
            return
        await require_account(self.store, principal, account_id, connection)
        if len(self._known_accounts) >= MAX_KNOWN_ACCOUNTS:
            self._known_accounts.clear()
        self._known_accounts.add(account_id)

    @classmethod
    async def start(cls, store: Store, configured_token: str | None) -> tuple[Authenticator, str | None]:
        """Load the operator credential, generating one when none is configured or stored.

        Returns the authenticator and, only when a token was generated just now, that token (to print once).
        """
        if configured_token:
            return cls(store, credentials.token_hash(configured_token)), None
        token = credentials.new_token(credentials.OPERATOR_PREFIX)
        try:
            async with store.transaction() as connection:
                stored = (await connection.execute(select(operator_credentials.c.token_hash))).scalar()
                if stored is not None:
                    return cls(store, stored), None
                await connection.execute(
                    insert(operator_credentials).values(
                        id=1, token_hash=credentials.token_hash(token), created_at=store.clock()
                    )
                )
        except IntegrityError:
            # Another process starting at the same moment stored its token first; that one is the token.
            async with store.read() as connection:
                stored = (await connection.execute(select(operator_credentials.c.token_hash))).scalar_one()
            return cls(store, stored), None
        return cls(store, credentials.token_hash(token)), token

    async def authenticate(self, token: str, connection: AsyncConnection | None = None) -> Principal | None:
        """The caller ``token`` stands for, or None. ``connection``: the request's read connection, if any."""
        digest = credentials.token_hash(token)
        if credentials.same_hash(digest, self.operator_hash):
            return OPERATOR
        if not token.startswith(credentials.ADMIN_KEY_PREFIX):
            return None
        rows = await Reading(self.store, connection).fetch_all(_LIVE_KEY, {"key_hash": digest})
        if not rows:
            return None
        return Principal.of_key(rows[0].id, rows[0].account_id)

    async def still_valid(self, principal: Principal, operator_mark: str | None) -> bool:
        """Whether a principal authenticated earlier (a console session's) may still act: its admin key is not
        revoked, or, for the operator, the operator credential is the one ``operator_mark`` was made from."""
        if principal.is_operator:
            return operator_mark is not None and credentials.same_hash(operator_mark, self.operator_mark)
        rows = await Reading(self.store, None).fetch_all(_LIVE_KEY_BY_ID, {"key_id": principal.key_id})
        return bool(rows)

    @property
    def operator_mark(self) -> str:
        """A fingerprint of the operator credential, to tell later whether it changed (never the credential)."""
        return credentials.token_hash("operator mark:" + self.operator_hash)


# The two reads of every authenticated request, built once: without a request's connection they run where reads
# are cheapest (inline on a SQLite file: ``Store.fetch_all``), which was a third of a publish's CPU through the pool.
_LIVE_KEY = select(admin_keys.c.id, admin_keys.c.account_id).where(
    admin_keys.c.key_hash == bindparam("key_hash"), admin_keys.c.revoked_at.is_(None)
)
_LIVE_KEY_BY_ID = select(admin_keys.c.id).where(
    admin_keys.c.id == bindparam("key_id"), admin_keys.c.revoked_at.is_(None)
)
_ACCOUNT_EXISTS = select(accounts.c.id).where(accounts.c.id == bindparam("account_id"))


def _not_found(account_id: str) -> NotFound:
    return NotFound("account-not-found", f"there is no account {account_id!r}")


async def require_account(
    store: Store, principal: Principal, account_id: str, connection: AsyncConnection | None = None
) -> None:
    """``NotFound`` unless the account exists and the caller may see it (a foreign account looks absent).

    An admin key's own account needs no query: the key was just read from ``admin_keys``, whose ``account_id``
    is a foreign key to ``accounts``, so the account exists. Only the operator's requests ask.
    """
    if not principal.may_access(account_id):
        raise _not_found(account_id)
    if principal.account_id == account_id:
        return
    if not await Reading(store, connection).fetch_all(_ACCOUNT_EXISTS, {"account_id": account_id}):
        raise _not_found(account_id)


async def create_account(store: Store, account_id: str) -> Account:
    created_at = store.clock()
    try:
        async with store.transaction() as connection:
            await connection.execute(insert(accounts).values(id=account_id, created_at=created_at))
    except IntegrityError:
        raise Conflict("account-exists", f"the account {account_id!r} already exists") from None
    return Account(id=account_id, created_at=created_at)


async def list_accounts(store: Store) -> list[Account]:
    async with store.read() as connection:
        rows = await connection.execute(select(accounts).order_by(accounts.c.id))
    return [Account(id=row.id, created_at=row.created_at) for row in rows]


async def get_account(store: Store, account_id: str, connection: AsyncConnection | None = None) -> Account:
    async with store.read(connection) as reader:
        row = (await reader.execute(select(accounts).where(accounts.c.id == account_id))).first()
    if row is None:
        raise _not_found(account_id)
    return Account(id=row.id, created_at=row.created_at)


async def create_key(store: Store, account_id: str, name: str | None) -> KeyCreated:
    key = credentials.new_token(credentials.ADMIN_KEY_PREFIX)
    key_id = secrets.token_hex(8)
    created_at = store.clock()
    async with store.transaction() as connection:
        await connection.execute(
            insert(admin_keys).values(
                id=key_id,
                account_id=account_id,
                key_hash=credentials.token_hash(key),
                name=name,
                created_at=created_at,
            )
        )
    return KeyCreated(id=key_id, name=name, created_at=created_at, revoked_at=None, key=key)


async def list_keys(store: Store, account_id: str, connection: AsyncConnection | None = None) -> list[KeyInfo]:
    async with store.read(connection) as reader:
        rows = await reader.execute(
            select(admin_keys).where(admin_keys.c.account_id == account_id).order_by(admin_keys.c.created_at)
        )
    return [KeyInfo(id=row.id, name=row.name, created_at=row.created_at, revoked_at=row.revoked_at) for row in rows]


async def revoke_key(store: Store, account_id: str, key_id: str) -> None:
    async with store.transaction() as connection:
        result = await connection.execute(
            update(admin_keys)
            .where(admin_keys.c.id == key_id, admin_keys.c.account_id == account_id)
            .where(admin_keys.c.revoked_at.is_(None))
            .values(revoked_at=store.clock())
        )
    if result.rowcount == 0:
        raise NotFound("key-not-found", f"there is no active key {key_id!r} in this account")
