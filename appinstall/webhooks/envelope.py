"""Reading a published notification: which event type it is and which conversation it belongs to.

A notification arrives in the platform's envelope, ``{"kind": "notification", "type": …, "body": {"changes":
[…]}}``. Installations subscribe per event type (``ms.MessagingEventNotification.<event.type>`` for messaging
events, ``cqm.ExConversationChangeNotification`` for conversation changes), and order is kept per conversation,
so a notification whose changes span several event types or conversations is split into one envelope per run of
changes that share both. The body sent, and signed, is the compact JSON of that envelope.
"""

from __future__ import annotations

import json
from typing import Any, Final, NamedTuple

import orjson

from appinstall.manifest import Problem, vocabulary

MESSAGING: Final = vocabulary.MESSAGING
CONVERSATION_CHANGE: Final = vocabulary.CONVERSATION_CHANGE
MESSAGING_EVENTS: Final = vocabulary.MESSAGING_EVENTS
MAX_BATCH: Final = 1000
"""Most notifications one batch publish takes (``batch``). Here, with the envelope, so that the CLI, which must
not import the server to split its input, reads the same number: a thousand typical notifications are about half
a megabyte, one transaction that holds SQLite's write lock for tens of milliseconds, not seconds."""


class EnvelopeError(ValueError):
    """The document is not a notification we can route; ``problems`` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{problem.pointer or '/'}: {problem.message}" for problem in problems))
        self.problems = problems


class Routed(NamedTuple):
    """One envelope to deliver: its subscription key, its conversation (if any) and its exact bytes. A named tuple:
    made for every notification of a batch, it costs a third of a frozen dataclass."""

    event_type: str
    conversation_id: str | None
    body: bytes


def encode(document: Any) -> bytes:
    """Compact JSON in UTF-8, as the platform sends it (and as its signature vectors are computed).

    orjson, not ``json.dumps``: the same bytes for what notifications carry (keys in order, no spaces, text as
    UTF-8, the same escapes; only some floats are spelled otherwise, ``1e-7`` for ``1e-07``) at a twentieth of the
    time, a tenth of a batch publish. What orjson will not write, integers past 64 bits, ``json`` does: the API
    refuses them at its edge, but a file the CLI checks may hold them."""
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _route_change(kind: str, change: Any, index: int) -> tuple[str, str | None] | Problem:
    at = f"/body/changes/{index}"
    if not isinstance(change, dict):
        return Problem(at, "type", "must be an object")
    if kind == CONVERSATION_CHANGE:
        result = change.get("result")
        conversation = _text(result.get("convId")) if isinstance(result, dict) else None
        return CONVERSATION_CHANGE, conversation
    event = change.get("event")
    event_type = event.get("type") if isinstance(event, dict) else None
    key = _MESSAGING_KEYS.get(event_type) if isinstance(event_type, str) else None
    if key is None:
        return Problem(
            f"{at}/event/type",
            "enum",
            f"must be one of {', '.join(MESSAGING_EVENTS)}",
            "messaging notifications carry the event's type in changes[].event.type",
        )
    return key, _text(change.get("conversationId")) or _text(change.get("dialogId"))


_MESSAGING_KEYS: Final = {event_type: f"{MESSAGING}.{event_type}" for event_type in MESSAGING_EVENTS}
"""Each messaging event type's subscription key, made once (``route`` runs for every notification)."""


def route(document: Any) -> list[Routed]:
    """Split a notification into the envelopes to deliver, in order; raise ``EnvelopeError`` if it is not one."""
    if not isinstance(document, dict):
        raise EnvelopeError([Problem("", "type", "must be an object")])
    problems = []
    if document.get("kind") != "notification":
        problems.append(Problem("/kind", "const", 'must be "notification"'))
    kind = document.get("type")
    if kind not in (MESSAGING, CONVERSATION_CHANGE):
        problems.append(Problem("/type", "enum", f"must be {MESSAGING} or {CONVERSATION_CHANGE}"))
    body = document.get("body")
    changes = body.get("changes") if isinstance(body, dict) else None
    if not isinstance(changes, list) or not changes:
        problems.append(Problem("/body/changes", "type", "must be a non-empty array of changes"))
    if problems:
        raise EnvelopeError(problems)
    assert isinstance(kind, str) and isinstance(changes, list) and isinstance(body, dict)

    if len(changes) == 1:  # most notifications: one change, the document as it came
        routed = _route_change(kind, changes[0], 0)
        if isinstance(routed, Problem):
            raise EnvelopeError([routed])
        return [Routed(routed[0], routed[1], encode(document))]
    keys: list[tuple[str, str | None]] = []
    for index, change in enumerate(changes):
        routed = _route_change(kind, change, index)
        if isinstance(routed, Problem):
            problems.append(routed)
        else:
            keys.append(routed)
    if problems:
        raise EnvelopeError(problems)

    if len(set(keys)) == 1:  # one event type and conversation: the document as it came
        event_type, conversation = keys[0]
        return [Routed(event_type, conversation, encode(document))]
    runs: list[tuple[tuple[str, str | None], list[Any]]] = []
    for key, change in zip(keys, changes, strict=True):
        if runs and runs[-1][0] == key:
            runs[-1][1].append(change)
        else:
            runs.append((key, [change]))
    return [
        Routed(event_type, conversation, encode({**document, "body": {**body, "changes": run}}))
        for (event_type, conversation), run in runs
    ]
