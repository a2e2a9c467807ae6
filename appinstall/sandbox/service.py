"""The sandbox's logic: domain discovery, and conversations driven through the platform's Send API.

Every change to a conversation and the notifications it causes commit in one transaction (``publish_in``): a
subscribed connector hears of every message that was accepted, and of nothing that was not.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.accounts.service import get_account
from appinstall.sandbox.models import (
    DISCOVERABLE_SERVICES,
    BaseUri,
    Discovery,
    PublishEvent,
    Request,
    UpdateConversationField,
)
from appinstall.sandbox.notifications import Conversation, conversation_upsert, messaging
from appinstall.store import Store
from appinstall.store.tables import conversation_events, conversations
from appinstall.tokens.errors import BAD_REQUEST_BODY, PlatformError
from appinstall.tokens.service import ConsumerIdentity
from appinstall.webhooks.envelope import route
from appinstall.webhooks.service import publish_in

T = TypeVar("T", bound=BaseModel)
CONVERSATION_NOT_FOUND: Final = 40401


def host_of(base_url: str) -> str:
    """``host[:port]`` of a base URL: the platform's discovery answers carry no scheme."""
    parts = urlsplit(base_url)
    return parts.netloc or parts.path.rstrip("/")


async def discover(store: Store, account_id: str, base_url: str) -> Discovery:
    """Where each service of the account lives: here. An unknown account is a 404, as on the platform."""
    await get_account(store, account_id)
    host = host_of(base_url)
    return Discovery(
        baseURIs=[BaseUri(service=service, account=account_id, baseURI=host) for service in DISCOVERABLE_SERVICES]
    )


# --- Conversations (the Send API) ----------------------------------------------------------------------------


def _bad_request(details: str) -> PlatformError:
    return PlatformError(400, BAD_REQUEST_BODY, "Bad Request", details)


def parse_requests(body: bytes, *, many: bool) -> list[Request]:
    """The request(s) of a Send API call: an array for opening, one object for sending (either is accepted)."""
    try:
        document = json.loads(body)
    except ValueError:
        raise _bad_request("the body is not JSON") from None
    items = document if isinstance(document, list) else [document]
    if not items or (not many and len(items) != 1):
        raise _bad_request("send one request object" if not many else "send an array of requests")
    try:
        return [Request.model_validate(item) for item in items]
    except ValidationError as error:
        raise _bad_request(_first_error(error)) from None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = "/".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _body(model: type[T], request: Request) -> T:
    try:
        return model.model_validate(request.body)
    except ValidationError as error:
        raise _bad_request(f"{request.type}: body/{_first_error(error)}") from None


def _snapshot(row: Any) -> Conversation:
    return Conversation(
        id=row.id,
        account_id=row.account_id,
        consumer_id=row.consumer_id,
        state=row.state,
        skill_id=row.skill_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ended_at=row.ended_at,
        close_reason=row.close_reason,
    )


async def _notify(connection: AsyncConnection, account_id: str, document: dict[str, Any], now: int) -> None:
    await publish_in(connection, account_id, route(document), now)


async def open_conversations(
    store: Store, account_id: str, consumer: ConsumerIdentity, requests: list[Request]
) -> list[dict[str, Any]]:
    """Answer each request of an "open" call in order; ``cm.ConsumerRequestConversation`` opens one."""
    answers: list[dict[str, Any]] = []
    for request in requests:
        if request.type == "userprofile.SetUserProfile":
            answers.append({"code": "OK", "body": {"msg": "OK User Profile set successfully"}, "reqId": request.id})
        elif request.type == "cm.ConsumerRequestConversation":
            conversation_id = await _open(store, account_id, consumer, request)
            answers.append({"code": "OK", "body": {"conversationId": conversation_id}, "reqId": request.id})
        else:
            raise _bad_request(f"unknown request type {request.type!r} for opening a conversation")
    return answers


async def _open(store: Store, account_id: str, consumer: ConsumerIdentity, request: Request) -> str:
    now = store.clock()
    skill = request.body.get("skillId", "-1")
    conversation = Conversation(
        id=str(uuid.uuid4()),
        account_id=account_id,
        consumer_id=consumer.lp_consumer_id,
        state="OPEN",
        skill_id=str(skill)[:32],
        created_at=now,
        updated_at=now,
    )
    async with store.transaction() as connection:
        await connection.execute(
            insert(conversations).values(
                id=conversation.id,
                account_id=account_id,
                consumer_id=conversation.consumer_id,
                state="OPEN",
                skill_id=conversation.skill_id,
                context={
                    key: request.body[key] for key in ("campaignInfo", "conversationContext") if key in request.body
                },
                next_sequence=0,
                created_at=now,
                updated_at=now,
            )
        )
        await _notify(connection, account_id, conversation_upsert(conversation), now)
    return conversation.id


async def _own_open_conversation(
    connection: AsyncConnection, account_id: str, consumer: ConsumerIdentity, conversation_id: str
) -> Any:
    """The consumer's conversation, locked for update; another consumer's looks like no conversation at all."""
    row = (
        await connection.execute(
            select(conversations)
            .where(
                conversations.c.id == conversation_id,
                conversations.c.account_id == account_id,
                conversations.c.consumer_id == consumer.lp_consumer_id,
            )
            .with_for_update()
        )
    ).first()
    if row is None:
        raise PlatformError(404, CONVERSATION_NOT_FOUND, "Not Found", f"no conversation {conversation_id}")
    if row.state != "OPEN":
        raise _bad_request(f"conversation {conversation_id} is closed")
    return row


async def send(store: Store, account_id: str, consumer: ConsumerIdentity, request: Request) -> dict[str, Any]:
    """``ms.PublishEvent`` (a message, rich content, a read receipt, a chat state) or a close."""
    if request.type == "cm.UpdateConversationField":
        update_field = _body(UpdateConversationField, request)
        await close(store, account_id, consumer, update_field.conversationId, "CONSUMER")
        return {"reqId": request.id, "code": "OK", "body": {}}
    if request.type != "ms.PublishEvent":
        raise _bad_request(f"unknown request type {request.type!r}; send ms.PublishEvent or cm.UpdateConversationField")
    publish = _body(PublishEvent, request)
    event = publish.event.model_dump(mode="json")
    numbered = publish.event.type != "ChatStateEvent"
    now = store.clock()
    async with store.transaction() as connection:
        row = await _own_open_conversation(connection, account_id, consumer, publish.dialogId)
        sequence = row.next_sequence if numbered else None
        await connection.execute(
            update(conversations)
            .where(conversations.c.id == row.id)
            .values(next_sequence=row.next_sequence + (1 if numbered else 0), updated_at=now)
        )
        await connection.execute(
            insert(conversation_events).values(
                conversation_id=row.id,
                sequence=sequence,
                originator_id=consumer.lp_consumer_id,
                role="CONSUMER",
                event=event,
                server_timestamp=now,
            )
        )
        document = messaging(row.id, consumer.lp_consumer_id, "CONSUMER", event, sequence, now)
        await _notify(connection, account_id, document, now)
    return {"reqId": request.id, "code": "OK", "body": {"sequence": sequence} if numbered else {}}


async def close(store: Store, account_id: str, consumer: ConsumerIdentity, conversation_id: str, reason: str) -> None:
    now = store.clock()
    async with store.transaction() as connection:
        row = await _own_open_conversation(connection, account_id, consumer, conversation_id)
        await connection.execute(
            update(conversations)
            .where(conversations.c.id == row.id)
            .values(state="CLOSE", close_reason=reason, ended_at=now, updated_at=now)
        )
        closed = replace(_snapshot(row), state="CLOSE", close_reason=reason, ended_at=now, updated_at=now)
        await _notify(connection, account_id, conversation_upsert(closed), now)
