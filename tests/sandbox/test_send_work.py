"""What a consumer's message asks of the database: its change, its event and its notification are one unit of
work (``sandbox.changes``), on one connection, and its tokens are checked without the database once known."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from appinstall.settings import Settings
from appinstall.store import Store
from tests.database_work import counting
from tests.sandbox.conversation import CONVERSATION, consumer_headers, open_conversation, publish_event

pytestmark = pytest.mark.anyio

SEND = f"{CONVERSATION.replace('?v=3', '')}/send?v=3"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No webhook worker: its claims would be counted with the request's work."""
    return settings.model_copy(update={"worker": False})


TEXT = {"type": "ContentEvent", "contentType": "text/plain", "message": "hello"}


async def test_a_consumer_message_is_one_transaction_on_one_connection(
    app: FastAPI, client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    store: Store = app.state.store
    headers = await consumer_headers(client, connector["app_jwt"], "consumer-1")
    conversation_id = await open_conversation(client, headers)

    with counting(store) as work:
        response = await client.post(SEND, json=publish_event(conversation_id, TEXT), headers=headers)

    assert response.json() == {"reqId": "1", "code": "OK", "body": {"sequence": 0}}
    # On a SQLite file the unit runs on the inline writer, with no pool connection; on PostgreSQL on one.
    assert work.checkouts == (0 if store.dialect.name == "sqlite" else 1)
