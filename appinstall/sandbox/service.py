"""The sandbox's logic: domain discovery, and conversations driven through the platform's Send API.

Every change to a conversation and the notifications it causes commit in one transaction (``publish_in``): a
subscribed connector hears of every message that was accepted, and of nothing that was not.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.accounts.models import ACCOUNT_ID_PATTERN
from appinstall.errors import Conflict, Invalid
from appinstall.sandbox.echo import is_consumer_text
from appinstall.sandbox.models import (
    DISCOVERABLE_SERVICES,
    Appended,
    BaseUri,
    Discovery,
    Event,
    PublishEvent,
    Request,
    UpdateConversationField,
)
from appinstall.sandbox.modes import account_mode
from appinstall.sandbox.notifications import Conversation, conversation_upsert, messaging, ttr_type
from appinstall.sandbox.tables import conversation_events, conversations
from appinstall.store import Store
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


def discover(account_id: str, base_url: str) -> Discovery:
    """Where each service of the account lives: here. The same for every well-formed account id, existing or not
    (without credentials, discovery must not tell which accounts exist); a malformed one is a 400."""
    if re.fullmatch(ACCOUNT_ID_PATTERN, account_id) is None:
        raise Invalid(
            "invalid-parameter", f"{account_id[:80]!r} is not an account id (letters, digits, _ and -, 1 to 64)"
        )
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
        agent_id=row.agent_id,
        ttr_type=ttr_type((row.context or {}).get("ttrDefName")),
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
        ttr_type=ttr_type(request.body.get("ttrDefName")),
    )
    # What the request said about the conversation, kept for the notifications that describe it later.
    context = {
        key: request.body[key] for key in ("ttrDefName", "campaignInfo", "conversationContext") if key in request.body
    }
    async with store.transaction() as connection:
        await connection.execute(
            insert(conversations).values(
                id=conversation.id,
                account_id=account_id,
                consumer_id=conversation.consumer_id,
                state="OPEN",
                skill_id=conversation.skill_id,
                context=context,
                next_sequence=0,
                created_at=now,
                updated_at=now,
            )
        )
        await _notify(connection, account_id, conversation_upsert(conversation), now)
    return conversation.id


async def _open_row(connection: AsyncConnection, account_id: str, conversation_id: str, consumer_id: str | None) -> Any:
    """The open conversation, locked for update. With ``consumer_id``, only that consumer's: another consumer's
    conversation looks like no conversation at all."""
    query = select(conversations).where(conversations.c.id == conversation_id, conversations.c.account_id == account_id)
    if consumer_id is not None:
        query = query.where(conversations.c.consumer_id == consumer_id)
    row = (await connection.execute(query.with_for_update())).first()
    if row is None:
        raise PlatformError(404, CONVERSATION_NOT_FOUND, "Not Found", f"no conversation {conversation_id}")
    if row.state != "OPEN":
        raise _bad_request(f"conversation {conversation_id} is closed")
    return row


async def _append(
    connection: AsyncConnection, row: Any, originator_id: str, role: str, event: dict[str, Any], now: int
) -> int | None:
    """Store one event of the conversation and publish it; its sequence number (None for a chat state)."""
    sequence = None if event["type"] == "ChatStateEvent" else row.next_sequence
    await connection.execute(
        update(conversations)
        .where(conversations.c.id == row.id)
        .values(next_sequence=row.next_sequence + (0 if sequence is None else 1), updated_at=now)
    )
    await connection.execute(
        insert(conversation_events).values(
            conversation_id=row.id,
            sequence=sequence,
            originator_id=originator_id,
            role=role,
            event=event,
            server_timestamp=now,
        )
    )
    await _notify(connection, row.account_id, messaging(row.id, originator_id, role, event, sequence, now), now)
    return sequence


async def send(
    store: Store, account_id: str, consumer: ConsumerIdentity, request: Request
) -> tuple[dict[str, Any], Appended | None]:
    """``ms.PublishEvent`` (a message, rich content, a read receipt, a chat state) or a close.

    Besides the answer, the event as committed (None for a close), for a scripted agent to hear of afterwards.
    """
    if request.type == "cm.UpdateConversationField":
        update_field = _body(UpdateConversationField, request)
        await close(store, account_id, update_field.conversationId, "CONSUMER", consumer.lp_consumer_id)
        return {"reqId": request.id, "code": "OK", "body": {}}, None
    if request.type != "ms.PublishEvent":
        raise _bad_request(f"unknown request type {request.type!r}; send ms.PublishEvent or cm.UpdateConversationField")
    publish = _body(PublishEvent, request)
    async with store.transaction() as connection:
        row = await _open_row(connection, account_id, publish.dialogId, consumer.lp_consumer_id)
        event = publish.event.model_dump(mode="json")
        sequence = await _append(connection, row, consumer.lp_consumer_id, "CONSUMER", event, store.clock())
        # The account's agent choice in force for this message, read only where an agent could answer it.
        agent_mode = await account_mode(store, account_id, connection) if is_consumer_text("CONSUMER", event) else None
    answer = {"reqId": request.id, "code": "OK", "body": {} if sequence is None else {"sequence": sequence}}
    return answer, Appended(account_id, row.id, "CONSUMER", event, sequence, agent_mode)


async def close(
    store: Store, account_id: str, conversation_id: str, reason: str, consumer_id: str | None = None
) -> None:
    """Close the conversation (``reason``: CONSUMER or AGENT); with ``consumer_id``, only that consumer's."""
    now = store.clock()
    async with store.transaction() as connection:
        row = await _open_row(connection, account_id, conversation_id, consumer_id)
        await connection.execute(
            update(conversations)
            .where(conversations.c.id == row.id)
            .values(state="CLOSE", close_reason=reason, ended_at=now, updated_at=now)
        )
        closed = replace(_snapshot(row), state="CLOSE", close_reason=reason, ended_at=now, updated_at=now)
        await _notify(connection, account_id, conversation_upsert(closed), now)


# --- The agent side (the sandbox's own API, for tests and demos) -------------------------------------------------


async def accept(
    store: Store, account_id: str, conversation_id: str, agent_id: str, *, if_unassigned: bool = False
) -> bool:
    """An agent takes the conversation: it joins as ASSIGNED_AGENT, and the change is published.

    With ``if_unassigned`` (a scripted agent), a conversation that already has an agent is left as it is; the
    check holds the conversation's row lock, so two concurrent accepts cannot both join. Whether the conversation
    is now this agent's (False: another agent has it).
    """
    now = store.clock()
    async with store.transaction() as connection:
        row = await _open_row(connection, account_id, conversation_id, None)
        if if_unassigned and row.agent_id is not None:
            return bool(row.agent_id == agent_id)
        await connection.execute(
            update(conversations).where(conversations.c.id == row.id).values(agent_id=agent_id, updated_at=now)
        )
        accepted = replace(_snapshot(row), agent_id=agent_id, updated_at=now)
        await _notify(connection, account_id, conversation_upsert(accepted), now)
    return True


async def agent_event(store: Store, account_id: str, conversation_id: str, event: Event) -> int | None:
    """The assigned agent publishes an event (text, rich content, typing, a read receipt); its sequence."""
    async with store.transaction() as connection:
        row = await _open_row(connection, account_id, conversation_id, None)
        if row.agent_id is None:
            raise Conflict("not-accepted", f"no agent has accepted conversation {conversation_id} yet")
        return await _append(
            connection, row, row.agent_id, "ASSIGNED_AGENT", event.model_dump(mode="json"), store.clock()
        )
