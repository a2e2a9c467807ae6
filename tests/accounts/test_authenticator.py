"""The authenticator's account check: every account is asked about once, a missing one every time."""

from __future__ import annotations

import pytest

from appinstall.accounts.models import OPERATOR, Principal
from appinstall.accounts.service import Authenticator, create_account
from appinstall.errors import NotFound
from appinstall.store import Store

pytestmark = pytest.mark.anyio


def _reads(store: Store) -> int:
    reader = store.inline_reader
    assert reader is not None  # a SQLite file: reads run inline, and are counted
    return reader.statements


async def test_an_account_known_to_exist_is_not_asked_about_again(sqlite_store: Store) -> None:
    await create_account(sqlite_store, "acme")
    authenticator = Authenticator(sqlite_store, "unused")
    await authenticator.require_account(OPERATOR, "acme")
    before = _reads(sqlite_store)
    await authenticator.require_account(OPERATOR, "acme")
    assert _reads(sqlite_store) == before


async def test_a_missing_account_is_asked_about_every_time(sqlite_store: Store) -> None:
    authenticator = Authenticator(sqlite_store, "unused")
    for _ in range(2):
        before = _reads(sqlite_store)
        with pytest.raises(NotFound):
            await authenticator.require_account(OPERATOR, "nobody")
        assert _reads(sqlite_store) == before + 1


async def test_a_known_account_still_looks_absent_to_another_accounts_key(sqlite_store: Store) -> None:
    await create_account(sqlite_store, "acme")
    authenticator = Authenticator(sqlite_store, "unused")
    await authenticator.require_account(OPERATOR, "acme")
    with pytest.raises(NotFound):
        await authenticator.require_account(Principal(actor="key:1", account_id="other"), "acme")
