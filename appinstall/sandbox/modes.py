"""Which scripted agent answers an account's consumers: the account's own choice, stored, else the server's.

The choice lives in the store rather than in the process, so it survives restarts and every API process of a
PostgreSQL deployment reads the same one.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import delete, select

from appinstall.sandbox.echo import effective_mode
from appinstall.sandbox.models import AgentMode, AgentSetting
from appinstall.sandbox.tables import sandbox_agents
from appinstall.store import Store


async def account_mode(store: Store, account_id: str) -> AgentMode | None:
    """The account's own choice, or None when it follows the server. (A consumer's message reads it in its own
    transaction: ``sandbox.changes.consumer_event``.)"""
    async with store.read() as reader:
        mode = await reader.scalar(select(sandbox_agents.c.mode).where(sandbox_agents.c.account_id == account_id))
    return cast(AgentMode | None, mode)


async def agent_setting(store: Store, account_id: str, server_mode: AgentMode) -> AgentSetting:
    """The agent in effect for the account, and where the choice comes from."""
    own = await account_mode(store, account_id)
    return AgentSetting(mode=effective_mode(own, server_mode), source="server" if own is None else "account")


async def set_account_mode(store: Store, account_id: str, mode: AgentMode) -> None:
    """Choose the account's agent, whatever the server's default."""
    now = store.clock()
    statement = store.dialect.upsert(sandbox_agents).values(account_id=account_id, mode=mode, updated_at=now)
    async with store.transaction() as connection:
        await connection.execute(
            statement.on_conflict_do_update(
                index_elements=[sandbox_agents.c.account_id], set_={"mode": mode, "updated_at": now}
            )
        )


async def clear_account_mode(store: Store, account_id: str) -> None:
    """Forget the account's choice: the server's default applies again."""
    async with store.transaction() as connection:
        await connection.execute(delete(sandbox_agents).where(sandbox_agents.c.account_id == account_id))
