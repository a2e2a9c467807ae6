"""The receiving end: verify a webhook request and read it as typed models, for connectors written in Python.

Verification works on the raw body bytes (re-serialized JSON would not match), compares in constant time, accepts
any of several secrets (so a receiver can hold the new and the old one during a rotation) and checks every
signature scheme the request carries. Only then is the body parsed.

Safe by default: the platform's ``x-liveperson-signature`` covers the body alone, with no time in it, so a request
captured once and sent again with its Standard Webhooks headers stripped would verify for ever. The default scheme
therefore requires the ``webhook-*`` headers, whose signed timestamp must be fresh; accepting the platform's
signature alone is an explicit choice (``scheme="platform"``), whose docstring says how to bound replays.

The models follow the platform's wire format and keep every field they do not name (the platform adds fields over
time), and a messaging event of a type they do not know still parses, as ``OtherEvent``, instead of failing: a
receiver should not start answering 401 to genuine requests because the platform grew.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from appinstall.connector.signing import (
    ID_HEADER,
    PLATFORM_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    platform_form,
    verify_platform_signature,
    verify_standard_signature,
)
from appinstall.manifest import vocabulary

# The two envelope types a notification comes in, as the manifest's vocabulary names them.
MESSAGING = vocabulary.MESSAGING
CONVERSATION_CHANGE = vocabulary.CONVERSATION_CHANGE

Scheme = Literal["any", "platform", "standard"]
_STANDARD_HEADERS = (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
_UNTIMED = (
    f"missing header {SIGNATURE_HEADER}: {PLATFORM_SIGNATURE_HEADER} alone has no timestamp, so a captured request "
    f"could be replayed for ever; to accept the platform's own deliveries pass scheme='platform' and drop repeats "
    f"by delivery id"
)
WHSEC_PREFIX = "whsec_"


class WebhookVerificationError(ValueError):
    """The request is not a genuine, well-formed notification; ``reason`` says why (never a secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Models --------------------------------------------------------------------------------------------------


class _Wire(BaseModel):
    """Snake-case attributes over the platform's camelCase keys; unnamed fields are kept, not refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True)


class ContentEvent(_Wire):
    """A message: text (``message`` is a string) or a file (``message`` is an object with its details)."""

    type: Literal["ContentEvent"] = "ContentEvent"
    message: str | dict[str, Any]
    content_type: str | None = None


class RichContentEvent(_Wire):
    """Structured content (cards, carousels, quick replies): ``content`` is the platform's JSON as sent."""

    type: Literal["RichContentEvent"] = "RichContentEvent"
    content: dict[str, Any]


class AcceptStatusEvent(_Wire):
    """A receipt: ``status`` (``ACCEPT``, ``READ``, …) for the messages whose ``sequence`` is in ``sequence_list``."""

    type: Literal["AcceptStatusEvent"] = "AcceptStatusEvent"
    status: str
    sequence_list: list[int] = Field(default_factory=list)


class ChatStateEvent(_Wire):
    """Typing and presence: ``chat_state`` is ``COMPOSING``, ``PAUSE``, ``ACTIVE``, ``INACTIVE``, ``GONE``…"""

    type: Literal["ChatStateEvent"] = "ChatStateEvent"
    chat_state: str


class OtherEvent(_Wire):
    """An event type these models do not know; its fields are in ``model_extra``."""

    type: str


def _wire_type(model: type[_Wire]) -> str:
    """The ``type`` a model's events have on the wire: a messaging event type's short name, spelled once there."""
    return str(model.model_fields["type"].default)


# The messaging events these models type (each one of the vocabulary's; a test checks it).
_EVENT_MODELS = (ContentEvent, RichContentEvent, AcceptStatusEvent, ChatStateEvent)
_KNOWN_EVENTS = frozenset(_wire_type(model) for model in _EVENT_MODELS)


def _event_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _KNOWN_EVENTS else "other"


Event = Annotated[
    Annotated[ContentEvent, Tag(_wire_type(ContentEvent))]
    | Annotated[RichContentEvent, Tag(_wire_type(RichContentEvent))]
    | Annotated[AcceptStatusEvent, Tag(_wire_type(AcceptStatusEvent))]
    | Annotated[ChatStateEvent, Tag(_wire_type(ChatStateEvent))]
    | Annotated[OtherEvent, Tag("other")],
    Discriminator(_event_tag),
]


class Originator(_Wire):
    """Who caused a messaging event: ``role`` is ``CONSUMER``, ``ASSIGNED_AGENT``, ``CONTROLLER``…"""

    id: str | None = None
    role: str | None = None


class MessagingChange(_Wire):
    """One change of an ``ms.MessagingEventNotification``. Chat states carry no ``sequence`` or timestamp."""

    event: Event
    sequence: int | None = None
    originator_id: str | None = None
    originator_metadata: Originator | None = None
    server_timestamp: int | None = None
    conversation_id: str | None = None
    dialog_id: str | None = None

    @property
    def event_type(self) -> str:
        """The subscription key this change is delivered under, ``ms.MessagingEventNotification.<event type>``."""
        return f"{MESSAGING}.{self.event.type}"

    @property
    def conversation(self) -> str | None:
        """The conversation, as delivery orders it: ``conversationId``, else ``dialogId``."""
        return self.conversation_id or self.dialog_id

    @property
    def role(self) -> str | None:
        """The originator's role, when the platform sent it."""
        return self.originator_metadata.role if self.originator_metadata else None


class Participant(_Wire):
    id: str | None = None
    role: str | None = None


class Dialog(_Wire):
    dialog_id: str | None = None
    dialog_type: str | None = None
    channel_type: str | None = None
    state: str | None = None
    closed_by: str | None = None
    participants_details: list[Participant] = Field(default_factory=list)


class ConversationDetails(_Wire):
    """The conversation after the change: ``state`` ``OPEN``/``CLOSE``, and why it closed."""

    state: str | None = None
    stage: str | None = None
    close_reason: str | None = None
    skill_id: str | None = None
    brand_id: str | None = None
    start_ts: int | None = None
    end_ts: int | None = None
    participants: list[Participant] = Field(default_factory=list)
    dialogs: list[Dialog] = Field(default_factory=list)


class ConversationResult(_Wire):
    conv_id: str | None = None
    effective_ttr: int | None = None
    conversation_details: ConversationDetails | None = None


class ConversationChange(_Wire):
    """One change of a ``cqm.ExConversationChangeNotification``: ``type`` ``UPSERT`` or ``DELETE``."""

    type: str
    result: ConversationResult = Field(default_factory=ConversationResult)

    @property
    def event_type(self) -> str:
        return CONVERSATION_CHANGE

    @property
    def conversation(self) -> str | None:
        return self.result.conv_id


class OtherChange(_Wire):
    """A change of an envelope type these models do not know; its fields are in ``model_extra``."""

    @property
    def event_type(self) -> str | None:
        return None

    @property
    def conversation(self) -> str | None:
        return None


def _change_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "messaging" if "event" in value else "conversation" if "result" in value else "other"
    if isinstance(value, MessagingChange):
        return "messaging"
    return "conversation" if isinstance(value, ConversationChange) else "other"


Change = Annotated[
    Annotated[MessagingChange, Tag("messaging")]
    | Annotated[ConversationChange, Tag("conversation")]
    | Annotated[OtherChange, Tag("other")],
    Discriminator(_change_tag),
]


class NotificationBody(_Wire):
    changes: list[Change] = Field(min_length=1)


class Notification(_Wire):
    """The platform's envelope: ``kind`` ``notification``, the envelope ``type`` and ``body.changes``.

    appinstall sends one subscription key and one conversation per request, so ``event_type`` and
    ``conversation_id`` are what most receivers need; the plural forms cover a notification taken straight from
    the platform, which may mix them.
    """

    kind: Literal["notification"]
    type: str
    body: NotificationBody

    @model_validator(mode="after")
    def _changes_match_the_envelope(self) -> Notification:
        expected = {MESSAGING: MessagingChange, CONVERSATION_CHANGE: ConversationChange}.get(self.type)
        for index, change in enumerate(self.body.changes):
            if expected is not None and not isinstance(change, expected):
                shape = "an event" if expected is MessagingChange else "a result"
                raise ValueError(f"change {index} of a {self.type} must have {shape}")
        return self

    @property
    def changes(self) -> list[MessagingChange | ConversationChange | OtherChange]:
        return list(self.body.changes)

    @property
    def event_types(self) -> list[str]:
        """The subscription keys of the changes, each once, in order."""
        return list(dict.fromkeys(key for change in self.body.changes if (key := change.event_type)))

    @property
    def event_type(self) -> str | None:
        """The subscription key of the first change (of every change, in a request from appinstall)."""
        keys = self.event_types
        return keys[0] if keys else None

    @property
    def conversation_ids(self) -> list[str]:
        """The conversations of the changes, each once, in order."""
        return list(dict.fromkeys(key for change in self.body.changes if (key := change.conversation)))

    @property
    def conversation_id(self) -> str | None:
        """The conversation of the first change (of every change, in a request from appinstall)."""
        ids = self.conversation_ids
        return ids[0] if ids else None


# --- Verifying -----------------------------------------------------------------------------------------------


def _check_platform(body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> None:
    header = headers.get(PLATFORM_SIGNATURE_HEADER)
    if header is None:
        raise WebhookVerificationError(f"missing header {PLATFORM_SIGNATURE_HEADER}")
    if platform_form(header) is None:
        raise WebhookVerificationError(
            f"{PLATFORM_SIGNATURE_HEADER} is neither sha1= nor sha256= followed by a base64 or hex HMAC"
        )
    matched = False
    for secret in secrets:  # every secret is tried, so the time taken does not say which one matched
        matched |= verify_platform_signature(secret, body, header)
    if not matched:
        raise WebhookVerificationError(f"bad signature in {PLATFORM_SIGNATURE_HEADER}")


def _check_standard(body: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: int, tolerance: int) -> None:
    for name in _STANDARD_HEADERS:
        if not headers.get(name):
            raise WebhookVerificationError(f"missing header {name}")
    try:
        timestamp = int(headers[TIMESTAMP_HEADER])
    except ValueError:
        raise WebhookVerificationError(f"{TIMESTAMP_HEADER} is not a number of seconds") from None
    if abs(now - timestamp) > tolerance:
        raise WebhookVerificationError(
            f"stale timestamp: {TIMESTAMP_HEADER} is {abs(now - timestamp)} s from now (tolerance {tolerance} s)"
        )
    if not verify_standard_signature(secrets, headers, body, now=now, tolerance=tolerance):
        raise WebhookVerificationError(f"bad signature in {SIGNATURE_HEADER}")


def parse(body: bytes) -> Notification:
    """Read a body as a notification, without verifying it: for bodies already verified some other way."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WebhookVerificationError(f"not JSON: {error}") from None
    except (ValueError, RecursionError):  # a number past Python's digit limit, nesting past the recursion limit
        raise WebhookVerificationError("not JSON a receiver can read: a number too long or nesting too deep") from None
    try:
        return Notification.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'/'.join(str(part) for part in problem['loc']) or '/'}: {problem['msg']}"
            for problem in error.errors(include_url=False)[:3]
        )
        raise WebhookVerificationError(f"not a notification: {problems}") from None


def _client_secret(given: str) -> str:
    """The client secret itself, from itself or from its Standard Webhooks form (``whsec_`` + base64)."""
    if not given.startswith(WHSEC_PREFIX):
        return given
    try:
        return base64.b64decode(given[len(WHSEC_PREFIX) :], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("a whsec_ secret must be base64 of the client secret") from None


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    scheme: Scheme = "any",
    now: int | None = None,
    tolerance: int = 300,
) -> Notification:
    """Verify a request's signatures over its raw ``body`` and return the notification, or raise
    ``WebhookVerificationError``.

    ``secret`` is the installation's client secret, or several (during a rotation: the new and the old); each may
    also be given in the Standard Webhooks form, ``whsec_`` + base64 of the secret.

    ``scheme``:

    - ``"any"`` (the default): the ``webhook-*`` headers must be there and verify, with ``webhook-timestamp``
      within ``tolerance`` seconds of ``now``; ``x-liveperson-signature``, when present, must verify too. A request
      that carries only ``x-liveperson-signature`` is refused: that signature has no timestamp, so anyone who
      captured one request could replay it for ever with the other headers stripped. appinstall sends both.
    - ``"standard"``: the ``webhook-*`` headers only (the other is ignored).
    - ``"platform"``: ``x-liveperson-signature`` only (SHA-1 or SHA-256, base64 or hex: whichever the account
      chose, told apart by prefix and length), for the platform's own deliveries, which carry no other. **Replay
      risk**: a captured request verifies again at any time. Drop repeats yourself: remember the delivery id
      (``webhook-id`` when present; otherwise the conversation and ``sequence`` of each change, or a hash of the
      body) in a shared store for longer than the sender retries, and ignore what you have seen.

    ``tolerance`` is how far, in seconds, ``webhook-timestamp`` may be from ``now`` (default: the clock).
    """
    secrets = [_client_secret(given) for given in ([secret] if isinstance(secret, str) else secret)]
    if not secrets or not all(secrets):
        raise ValueError("verify needs at least one secret, and no empty one")
    lowered = {name.lower(): value for name, value in headers.items()}
    has_platform = PLATFORM_SIGNATURE_HEADER in lowered
    has_standard = any(name in lowered for name in _STANDARD_HEADERS)
    if scheme == "any" and not (has_platform or has_standard):
        raise WebhookVerificationError(f"missing header: neither {PLATFORM_SIGNATURE_HEADER} nor {SIGNATURE_HEADER}")
    if scheme == "any" and not has_standard:
        raise WebhookVerificationError(_UNTIMED)
    if scheme == "platform" or (scheme == "any" and has_platform):
        _check_platform(body, lowered, secrets)
    if scheme == "standard" or (scheme == "any" and has_standard):
        _check_standard(body, lowered, secrets, int(time.time()) if now is None else now, tolerance)
    return parse(body)
