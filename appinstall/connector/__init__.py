"""The connector's side of appinstall: what a connector app written in Python imports, and all it needs.

This package is appinstall's public Python API for connectors (beside the manifest validator at the top of
``appinstall``, the ``appinstall`` command and the HTTP API); the names below are the surface, changed only
deliberately. Everything else under ``appinstall`` is the server's inside and may change without notice.

- **Tokens**: ``TokenClient`` (blocking) and ``AsyncTokenClient`` get an AppJWT with the installation's client
  credentials, cache it and renew it before it expires; ``consumer_token`` gets a ConsumerJWS. A refusal is a
  ``TokenError``.
- **Webhooks**: ``verify`` checks a request's signatures over its raw body and returns the typed
  ``Notification``, or raises ``WebhookVerificationError``; ``parse`` reads a body verified some other way.
  ``fastapi_verifier`` (a FastAPI dependency) and ``flask_verify`` do the same inside those frameworks.
- **Headers** a receiver may read: ``ID_HEADER`` (``webhook-id``, the same on every attempt of one delivery: drop
  repeats by it) and ``ATTEMPT_HEADER`` (which attempt this is; informative, not signed).

The package depends on no part of the server (a test checks its imports): a connector installs ``appinstall``
for these names and never starts a store or an app. The signature scheme (``appinstall.connector.signing``) lives
here because it is the contract both ends share; the server's sender signs with it.
"""

from appinstall.connector.frameworks import FlaskLikeRequest, fastapi_verifier, flask_verify
from appinstall.connector.receiving import (
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
    Scheme,
    WebhookVerificationError,
    parse,
    verify,
)
from appinstall.connector.signing import ATTEMPT_HEADER, ID_HEADER
from appinstall.connector.tokens import AsyncTokenClient, TokenClient, TokenError

__all__ = [
    "ATTEMPT_HEADER",
    "ID_HEADER",
    "AcceptStatusEvent",
    "AsyncTokenClient",
    "ChatStateEvent",
    "ContentEvent",
    "ConversationChange",
    "ConversationDetails",
    "FlaskLikeRequest",
    "MessagingChange",
    "Notification",
    "OtherChange",
    "OtherEvent",
    "RichContentEvent",
    "Scheme",
    "TokenClient",
    "TokenError",
    "WebhookVerificationError",
    "fastapi_verifier",
    "flask_verify",
    "parse",
    "verify",
]
