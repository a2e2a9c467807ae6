"""The webhook receiver: verify each request, keep what the connector acts on, answer at once.

(No ``from __future__ import annotations`` here: FastAPI reads the endpoint's annotations at run time, and the
dependency they name is local to ``receiver``.)
"""

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response

from appinstall.connector import ContentEvent, ConversationChange, MessagingChange, Notification, fastapi_verifier

PATH = "/webhooks"


@dataclass(frozen=True)
class AgentMessage:
    conversation_id: str
    text: str


@dataclass(frozen=True)
class Closed:
    conversation_id: str
    reason: str | None  # CONSUMER, AGENT…


Heard = AgentMessage | Closed


def heard_in(notification: Notification) -> list[Heard]:
    """The agents' text messages and the closings in a notification. The rest is ignored, notably our consumer's
    own messages, which come back as ContentEvents too: answering those would never end."""
    heard: list[Heard] = []
    for change in notification.changes:
        if isinstance(change, MessagingChange) and change.role == "ASSIGNED_AGENT" and change.conversation:
            if isinstance(change.event, ContentEvent) and isinstance(change.event.message, str):
                heard.append(AgentMessage(change.conversation, change.event.message))
        elif isinstance(change, ConversationChange) and change.conversation:
            details = change.result.conversation_details
            if details is not None and details.state == "CLOSE":
                heard.append(Closed(change.conversation, details.close_reason))
    return heard


def receiver(client_secret: str, inbox: asyncio.Queue[Heard], *, platform_signature_only: bool = False) -> FastAPI:
    """The app that receives the webhooks. It only queues what it heard, so that it answers within the platform's
    timeout; the connector acts on the queue in order.

    By default it requires appinstall's timestamped ``webhook-*`` signature, so a captured request cannot be
    replayed later. ``platform_signature_only`` also accepts requests signed only with ``x-liveperson-signature``,
    as the platform itself sends them: that signature has no timestamp, so repeats are then dropped by a hash of
    the body when there is no ``webhook-id``.
    """
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # Checks the signature on the raw body (before any parsing) and answers 401 when it does not match.
    verified = fastapi_verifier(client_secret, scheme="platform" if platform_signature_only else "any")
    # Delivery is at least once: a request whose answer was lost comes again with the same webhook-id.
    # (A real connector keeps these in a shared store whose entries expire.)
    seen: set[str] = set()
    # 200, not 204: the platform counts only 200 and 201 as delivered.

    @app.post(PATH, status_code=200)
    async def webhook(request: Request, notification: Annotated[Notification, Depends(verified)]) -> Response:
        delivery = request.headers.get("webhook-id")  # appinstall's; the platform itself sends none
        if delivery is None:  # only with platform_signature_only: a replayed request has the same body
            delivery = "sha256:" + hashlib.sha256(await request.body()).hexdigest()
        if delivery in seen:
            return Response(status_code=200)
        seen.add(delivery)
        for item in heard_in(notification):
            inbox.put_nowait(item)
        return Response(status_code=200)

    return app
