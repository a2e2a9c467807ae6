"""The sandbox's logic: domain discovery, and conversations driven through the platform's Send API.

Every change to a conversation and the notifications it causes commit in one transaction, a unit of work of
``sandbox.changes`` run by ``Store.run_transaction``: a subscribed connector hears of every message that was
accepted, and of nothing that was not. Here, the requests are read and answered; there, the changes are made.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from appinstall.accounts.models import ACCOUNT_ID_PATTERN
from appinstall.errors import Invalid
from appinstall.sandbox import changes
from appinstall.sandbox.changes import CONVERSATION_NOT_FOUND, bad_request
from appinstall.sandbox.echo import is_consumer_text
from appinstall.sandbox.history import conversation_events_after, get_conversation, recent_conversations
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
from appinstall.sandbox.notifications import Conversation, ttr_type
from appinstall.store import Store
from appinstall.tokens.service import ConsumerIdentity

T = TypeVar("T", bound=BaseModel)


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


def parse_requests(body: bytes, *, many: bool) -> list[Request]:
    """The request(s) of a Send API call: an array for opening, one object for sending (either is accepted)."""
    try:
        document = json.loads(body)
    except ValueError:
        raise bad_request("the body is not JSON") from None
    items = document if isinstance(document, list) else [document]
    if not items or (not many and len(items) != 1):
        raise bad_request("send one request object" if not many else "send an array of requests")
    try:
        return [Request.model_validate(item) for item in items]
    except ValidationError as error:
        raise bad_request(_first_error(error)) from None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = "/".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _body(model: type[T], request: Request) -> T:
    try:
        return model.model_validate(request.body)
    except ValidationError as error:
        raise bad_request(f"{request.type}: body/{_first_error(error)}") from None


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
            raise bad_request(f"unknown request type {request.type!r} for opening a conversation")
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
    await store.run_transaction(changes.open_conversation, conversation, context, now)
    return conversation.id


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
        raise bad_request(f"unknown request type {request.type!r}; send ms.PublishEvent or cm.UpdateConversationField")
    publish = _body(PublishEvent, request)
    event = publish.event.model_dump(mode="json")
    # The account's agent choice in force for this message, read only where an agent could answer it.
    sequence, agent_mode = await store.run_transaction(
        changes.consumer_event,
        account_id,
        publish.dialogId,
        consumer.lp_consumer_id,
        event,
        is_consumer_text("CONSUMER", event),
        store.clock(),
    )
    answer = {"reqId": request.id, "code": "OK", "body": {} if sequence is None else {"sequence": sequence}}
    return answer, Appended(account_id, publish.dialogId, "CONSUMER", event, sequence, agent_mode)


async def close(
    store: Store, account_id: str, conversation_id: str, reason: str, consumer_id: str | None = None
) -> None:
    """Close the conversation (``reason``: CONSUMER or AGENT); with ``consumer_id``, only that consumer's."""
    await store.run_transaction(changes.close, account_id, conversation_id, reason, consumer_id, store.clock())


# --- The agent side (the sandbox's own API, for tests and demos) -------------------------------------------------


async def accept(
    store: Store, account_id: str, conversation_id: str, agent_id: str, *, if_unassigned: bool = False
) -> bool:
    """An agent takes the conversation: it joins as ASSIGNED_AGENT, and the change is published.

    With ``if_unassigned`` (a scripted agent), a conversation that already has an agent is left as it is; the
    check holds the conversation's row lock, so two concurrent accepts cannot both join. Whether the conversation
    is now this agent's (False: another agent has it).
    """
    return await store.run_transaction(
        changes.accept, account_id, conversation_id, agent_id, if_unassigned, store.clock()
    )


async def agent_event(store: Store, account_id: str, conversation_id: str, event: Event) -> int | None:
    """The assigned agent publishes an event (text, rich content, typing, a read receipt); its sequence."""
    return await store.run_transaction(
        changes.agent_event, account_id, conversation_id, event.model_dump(mode="json"), store.clock()
    )


__all__ = [
    "CONVERSATION_NOT_FOUND",
    "accept",
    "agent_event",
    "close",
    "conversation_events_after",
    "discover",
    "get_conversation",
    "open_conversations",
    "recent_conversations",
    "send",
]
