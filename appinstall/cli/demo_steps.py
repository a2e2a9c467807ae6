"""What ``appinstall demo`` does and expects, as pure functions: its manifest, the notifications it waits for, and
what it prints for the user to go on with.

Kept apart from the command, which runs servers and sockets, so that what "the demo worked" means is tested
without any of them.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from appinstall.connector.receiving import (
    AcceptStatusEvent,
    ChatStateEvent,
    ContentEvent,
    ConversationChange,
    MessagingChange,
    Notification,
    OtherChange,
)
from appinstall.connector.signing import PLATFORM_SIGNATURE_HEADER, SIGNATURE_HEADER
from appinstall.manifest import validate_document

SEED_MANIFEST: Final = Path(__file__).resolve().parent.parent / "manifest" / "examples" / "seed.json"

# The notifications of the demo's conversation, in the order a connector hears them.
OPENED: Final = "the conversation opened (UPSERT)"
MESSAGE: Final = "the consumer's message"
ACCEPTED: Final = "the agent accepted (UPSERT with ASSIGNED_AGENT)"
READ: Final = "the agent read it (READ)"
TYPING: Final = "the agent typing (COMPOSING)"
REPLY: Final = "the agent's reply"
STEPS: Final = (OPENED, MESSAGE, ACCEPTED, READ, TYPING, REPLY)


class DemoManifestError(ValueError):
    """The bundled example manifest no longer validates once pointed at the receiver (a packaging bug)."""


def demo_manifest(seed: bytes, receiver_url: str) -> tuple[bytes, dict[str, Any]]:
    """The seed manifest with every webhook endpoint at ``receiver_url``: its bytes, and its normalised form."""
    document = json.loads(seed)
    for event_type, webhook in document.get("capabilities", {}).get("webhooks", {}).items():
        if event_type != "retry":
            webhook["endpoint"] = receiver_url
    result = validate_document(document, allow_local_http=True)
    if result.manifest is None:
        problems = "; ".join(f"{problem.pointer}: {problem.message}" for problem in result.errors)
        raise DemoManifestError(f"the example manifest does not validate: {problems}")
    return json.dumps(document).encode(), result.manifest.to_document()


def signed_both_ways(headers: Mapping[str, str]) -> bool:
    """The request carried both signatures. (The listener verified every signature present, or refused it.)"""
    names = {name.lower() for name in headers}
    return PLATFORM_SIGNATURE_HEADER in names and SIGNATURE_HEADER in names


def step_of(change: MessagingChange | ConversationChange | OtherChange, text: str) -> str | None:
    """Which of the demo's expected notifications ``change`` is, if any (``text``: what the consumer said)."""
    if isinstance(change, ConversationChange):
        details = change.result.conversation_details
        if change.type != "UPSERT" or details is None or details.state != "OPEN":
            return None
        return ACCEPTED if any(p.role == "ASSIGNED_AGENT" for p in details.participants) else OPENED
    if not isinstance(change, MessagingChange):
        return None
    event = change.event
    if change.role == "CONSUMER":
        return MESSAGE if isinstance(event, ContentEvent) and event.message == text else None
    if change.role != "ASSIGNED_AGENT":
        return None
    if isinstance(event, AcceptStatusEvent) and event.status == "READ":
        return READ
    if isinstance(event, ChatStateEvent) and event.chat_state == "COMPOSING":
        return TYPING
    return REPLY if isinstance(event, ContentEvent) and event.message == text else None


@dataclass(frozen=True)
class Arrival:
    """A notification the receiver printed, and whether it carried both signatures."""

    notification: Notification
    signed_both_ways: bool


def missing_steps(arrivals: Sequence[Arrival], conversation_id: str, text: str) -> list[str]:
    """The expected notifications of ``conversation_id`` that have not arrived with both signatures, in order."""
    seen = {
        step_of(change, text)
        for arrival in arrivals
        if arrival.signed_both_ways
        for change in arrival.notification.changes
        if change.conversation == conversation_id
    }
    return [step for step in STEPS if step not in seen]


@dataclass(frozen=True)
class Credentials:
    """What the user needs to go on against the demo's server; all of it made for this data directory."""

    server: str
    account: str
    admin_key: str
    client_id: str
    client_secret: str
    consumer: str
    conversation_id: str


def next_steps(credentials: Credentials) -> str:
    """Shell commands to continue by hand, with the demo's credentials filled in."""
    c = credentials
    account = "$APPINSTALL_SERVER/api/account/$APPINSTALL_ACCOUNT"
    send = {
        "kind": "req",
        "id": "1",
        "type": "ms.PublishEvent",
        "body": {
            "dialogId": c.conversation_id,
            "event": {"type": "ContentEvent", "contentType": "text/plain", "message": "hi again"},
        },
    }
    agent_reply = {"event": {"type": "ContentEvent", "contentType": "text/plain", "message": "hello from a person"}}
    environment = {
        "APPINSTALL_SERVER": c.server,
        "APPINSTALL_ACCOUNT": c.account,
        "APPINSTALL_KEY": c.admin_key,
        "APPINSTALL_CLIENT_ID": c.client_id,
        "APPINSTALL_CLIENT_SECRET": c.client_secret,
    }
    exports = " \\\n       ".join(f"{name}={shlex.quote(value)}" for name, value in environment.items())
    json_header = '-H "Content-Type: application/json"'
    return "\n".join(
        [
            f"export {exports}",
            "",
            "# the consumer writes again (an AppJWT and a ConsumerJWS first); the echo agent answers",
            "APP_JWT=$(appinstall token)",
            f"CONSUMER_JWS=$(appinstall token --consumer {shlex.quote(c.consumer)})",
            f'curl -s "{account}/messaging/consumer/conversation/send?v=3" \\',
            f'  -H "Authorization: $APP_JWT" -H "X-LP-ON-BEHALF: $CONSUMER_JWS" {json_header} \\',
            f"  -d {shlex.quote(json.dumps(send))}",
            "",
            "# answer as the agent yourself, after turning the echo agent off",
            f'curl -s -X PUT "{account}/sandbox/agent" -H "Authorization: Bearer $APPINSTALL_KEY" {json_header} \\',
            """  -d '{"mode": "off"}'""",
            f'curl -s "{account}/sandbox/conversations/{c.conversation_id}/events" \\',
            f'  -H "Authorization: Bearer $APPINSTALL_KEY" {json_header} -d {shlex.quote(json.dumps(agent_reply))}',
            "",
            "# the installation and what was delivered to it",
            "appinstall installations list",
            f"appinstall deliveries list {shlex.quote(c.client_id)}",
        ]
    )
