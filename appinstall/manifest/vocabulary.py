"""The manifest's vocabulary, defined once: the event types an app subscribes to, and the engagement values.

Everything that names an event type derives from ``EVENTS``: the ``capabilities.webhooks`` model (one field per
event type, ``manifest/webhooks.py``), the published JSON Schema and the reference tables generated from it
(``make docs``), an installation's routes (``manifest/routes.py``) that the delivery worker and discovery read,
the hints for a misspelt key, the HTTP API's and the CLI's lists, the envelopes the server routes and the
receiving SDK reads, and the sandbox's samples. Adding an event type is one more ``EventType`` in ``EVENTS``,
then ``make docs``; ``tests/manifest/test_vocabulary.py`` fails if an event type is spelled out anywhere else.

The engagement vocabularies are ``Literal`` types, so that the model's fields are typed by them, with the tuples
derived from those types rather than written twice. Pure data: no I/O, nothing imported from the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

# --- Event types -------------------------------------------------------------------------------------------

# The two notification envelopes the platform sends: messaging events (subscribed per ``event.type``, as
# ``ms.MessagingEventNotification.<type>``) and conversation changes (subscribed under the envelope's own name).
MESSAGING: Final = "ms.MessagingEventNotification"
CONVERSATION_CHANGE: Final = "cqm.ExConversationChangeNotification"


def short_event_name(event_type: str) -> str:
    """The name people read and type: the last dotted part (``ContentEvent``, ``ExConversationChangeNotification``)."""
    return event_type.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class EventType:
    """One type of notification an app subscribes to under ``capabilities.webhooks``.

    ``field`` is the attribute of the webhooks model that holds its webhook; ``description`` is published in the
    schema and the reference tables; ``about``, ``words`` and ``hint_rank`` let a key that names what the
    notification carries ("TypingEvent") point to this type: the types are tried by ``hint_rank``, most specific
    words first ("richmessage" is rich content, not content).
    """

    name: str
    field: str
    description: str
    about: str
    words: tuple[str, ...]
    hint_rank: int

    @property
    def short_name(self) -> str:
        """The name people read and type: the last dotted part (``ContentEvent``)."""
        return short_event_name(self.name)

    @property
    def is_messaging(self) -> bool:
        """Whether it comes in the messaging envelope, as that envelope's ``event.type`` (its short name)."""
        return self.name.startswith(MESSAGING + ".")


# The seed's table names the conversation-change subscription with the messaging prefix; the platform's
# notifications (and the seed's own example) use the ``cqm.`` name. We accept the table's spelling and warn.
LEGACY_EX_CONVERSATION_CHANGE: Final = f"{MESSAGING}.ExConversationChangeNotification"

CONTENT: Final = EventType(
    name=f"{MESSAGING}.ContentEvent",
    field="content_event",
    description="Text and file messages.",
    about="text and file messages",
    words=("message", "text", "file", "content"),
    hint_rank=3,
)
RICH_CONTENT: Final = EventType(
    name=f"{MESSAGING}.RichContentEvent",
    field="rich_content_event",
    description="Structured (rich) content messages.",
    about="structured (rich) content",
    words=("rich", "structured", "card"),
    hint_rank=2,
)
ACCEPT_STATUS: Final = EventType(
    name=f"{MESSAGING}.AcceptStatusEvent",
    field="accept_status_event",
    description="Delivery and read receipts.",
    about="read and delivery receipts",
    words=("receipt", "read", "seen", "delivered", "acceptstatus"),
    hint_rank=1,
)
CHAT_STATE: Final = EventType(
    name=f"{MESSAGING}.ChatStateEvent",
    field="chat_state_event",
    description="Typing and presence states.",
    about="typing and presence",
    words=("typing", "presence", "composing", "chatstate"),
    hint_rank=0,
)
EX_CONVERSATION: Final = EventType(
    name=CONVERSATION_CHANGE,
    field="ex_conversation_change",
    description="Conversation opened, assigned or closed. Also accepted under the seed table's spelling "
    f"`{LEGACY_EX_CONVERSATION_CHANGE}`, with a warning.",
    about="conversations opened, assigned or closed",
    words=("conversation", "assign", "close", "open", "transfer"),
    hint_rank=4,
)

# Every event type, in the platform's order (the seed's table, the schema, the reference tables).
EVENTS: Final[tuple[EventType, ...]] = (CONTENT, RICH_CONTENT, ACCEPT_STATUS, CHAT_STATE, EX_CONVERSATION)

EVENT_TYPES: Final = tuple(event.name for event in EVENTS)
CONTENT_EVENT: Final = CONTENT.name
RICH_CONTENT_EVENT: Final = RICH_CONTENT.name
ACCEPT_STATUS_EVENT: Final = ACCEPT_STATUS.name
CHAT_STATE_EVENT: Final = CHAT_STATE.name
EX_CONVERSATION_CHANGE: Final = EX_CONVERSATION.name
# Every key under ``capabilities.webhooks`` that holds a webhook: the event types, and the seed table's legacy
# spelling, which the validator accepts with a warning (the other key there, ``retry``, is settings).
WEBHOOK_KEYS: Final = (*EVENT_TYPES, LEGACY_EX_CONVERSATION_CHANGE)
# The messaging events' ``event.type`` values, as they come in the messaging envelope.
MESSAGING_EVENTS: Final = tuple(event.short_name for event in EVENTS if event.is_messaging)


# Every spelling an event type may be given in: its full name, its short name, the seed table's legacy name, and
# ``ConversationChange``, which ``appinstall listen`` prints for the conversation-change notification.
_EVENT_TYPE_NAMES: Final = {
    **{name.lower(): name for name in EVENT_TYPES},
    **{short_event_name(name).lower(): name for name in EVENT_TYPES},
    LEGACY_EX_CONVERSATION_CHANGE.lower(): EX_CONVERSATION_CHANGE,
    "conversationchange": EX_CONVERSATION_CHANGE,
}


def event_type_named(name: str) -> str | None:
    """The full event type a person meant by ``name`` (full or short, any case); None if it names no event type.

    One vocabulary in and out: listings print the short name, so every place that takes an event type takes it too.
    """
    return _EVENT_TYPE_NAMES.get(name.lower())


# --- Engagement vocabularies (the seed's tables; ``cart_items`` comes from its example) ----------------------

EntryPoint = Literal["section", "url"]
VisitorBehavior = Literal[
    "visited_location",
    "time_on_location",
    "flow",
    "engaged_in_session",
    "about_to_abandon",
    "cart_value",
    "cart_items",
    "visitor_error",
    "viewed_products",
    "service_activity",
]
TargetAudience = Literal[
    "external_referral",
    "search_keywords",
    "ip",
    "platform",
    "geo_location",
    "returning_visitors",
    "marketing_source",
    "customer_type",
    "age",
    "balance",
    "customer_id",
    "gender",
    "store_zip_code",
    "store_number",
    "company_size",
    "registration_date",
]
Goal = Literal["url", "purchase_total", "num_of_pages", "lead", "service_activity"]
ConsumerIdentity = Literal["auth", "unauth"]

ENTRY_POINTS: Final[tuple[EntryPoint, ...]] = get_args(EntryPoint)
VISITOR_BEHAVIORS: Final[tuple[VisitorBehavior, ...]] = get_args(VisitorBehavior)
TARGET_AUDIENCES: Final[tuple[TargetAudience, ...]] = get_args(TargetAudience)
GOALS: Final[tuple[Goal, ...]] = get_args(Goal)
CONSUMER_IDENTITIES: Final[tuple[ConsumerIdentity, ...]] = get_args(ConsumerIdentity)
# ``consumer_identity`` must include it: the platform engages authenticated consumers.
REQUIRED_CONSUMER_IDENTITY: Final[ConsumerIdentity] = "auth"

# The engagement's list fields, each with its values: what discovery filters installations by.
ENGAGEMENT_VOCABULARIES: Final[dict[str, tuple[str, ...]]] = {
    "entry_point": ENTRY_POINTS,
    "visitor_behavior": VISITOR_BEHAVIORS,
    "target_audience": TARGET_AUDIENCES,
    "goal": GOALS,
    "consumer_identity": CONSUMER_IDENTITIES,
}
