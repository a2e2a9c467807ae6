"""Webhook delivery: notifications fanned out to installations, stored, signed, sent and retried."""

from appinstall.webhooks.frameworks import fastapi_verifier, flask_verify
from appinstall.webhooks.receiving import (
    AcceptStatusEvent,
    ChatStateEvent,
    ContentEvent,
    ConversationChange,
    ConversationDetails,
    MessagingChange,
    Notification,
    OtherChange,
    OtherEvent,
    RichContentEvent,
    WebhookVerificationError,
    parse,
    verify,
)

__all__ = [
    "AcceptStatusEvent",
    "ChatStateEvent",
    "ContentEvent",
    "ConversationChange",
    "ConversationDetails",
    "MessagingChange",
    "Notification",
    "OtherChange",
    "OtherEvent",
    "RichContentEvent",
    "WebhookVerificationError",
    "fastapi_verifier",
    "flask_verify",
    "parse",
    "verify",
]
