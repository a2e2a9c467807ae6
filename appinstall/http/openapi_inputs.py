"""What the routes that check their own input accept, as OpenAPI schemas: as strict as the checks themselves.

FastAPI knows these parameters only as strings and these bodies not at all (the routes read the bytes and validate
them in code); the schemas come from the same models and constants as those checks where there are some, so that
clients and schemathesis send what the routes take. ``http.openapi`` puts them in the document.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from appinstall.accounts.models import ACCOUNT_ID_PATTERN
from appinstall.manifest.vocabulary import EVENT_TYPES, short_event_name
from appinstall.sandbox.models import PublishEvent, UpdateConversationField
from appinstall.tokens.views import ConsumerRequest
from appinstall.webhooks.envelope import CONVERSATION_CHANGE, MAX_BATCH, MESSAGING, MESSAGING_EVENTS

# --- Parameters checked by hand -------------------------------------------------------------------------------

MOMENT: Final[dict[str, Any]] = {
    "anyOf": [{"type": "string", "pattern": "^[0-9]{1,14}$"}, {"type": "string", "format": "date-time"}],
    "description": "Milliseconds since the epoch (documented to 14 digits; the route takes up to 253402300799999, "
    "9999-12-31), or an RFC 3339 time with a zone (2026-11-25T12:00:00Z).",
}
EVENT_TYPE: Final[dict[str, Any]] = {
    "enum": [short_event_name(name) for name in EVENT_TYPES] + list(EVENT_TYPES),
    "description": "An event type, short (ContentEvent) or full (ms.MessagingEventNotification.ContentEvent).",
}
PARAMETERS: Final[dict[str, dict[str, Any]]] = {
    "account_id": {"type": "string", "pattern": ACCOUNT_ID_PATTERN},
    "event_type": EVENT_TYPE,
    "since": MOMENT,
    "until": MOMENT,
}
"""Parameter name → the schema of the value that the route's own checks accept (FastAPI only knows "a string")."""


REQUIRED: Final[frozenset[tuple[str, str]]] = frozenset({("put", "If-Match"), ("patch", "If-Match")})
"""(method, parameter) the route refuses to go without, though FastAPI reads it as optional (428 when missing)."""


def strict_parameter(method: str, parameter: dict[str, Any]) -> None:
    """Narrow ``parameter`` (of an operation with ``method``) to what the route's own checks accept."""
    schema = parameter["schema"]
    kept = {key: schema[key] for key in ("title", "default") if key in schema}
    if (method, parameter["name"]) in REQUIRED:
        parameter["required"] = True
        parameter["schema"] = {"type": "string", "minLength": 1, **kept}
    strict = PARAMETERS.get(parameter["name"])
    if strict is None:
        return
    if schema.get("type") == "array":  # a repeatable parameter: each value is checked
        parameter["schema"] = {**schema, "items": strict}
    else:
        parameter["schema"] = {**strict, **kept}


# --- Bodies that routes read by hand ---------------------------------------------------------------------------


class _Send(BaseModel):
    """``ms.PublishEvent``: one event in a conversation (``sandbox.service.send``)."""

    model_config = ConfigDict(extra="ignore")
    kind: Literal["req"]
    id: str | int
    type: Literal["ms.PublishEvent"]
    body: PublishEvent


class _Close(BaseModel):
    """``cm.UpdateConversationField`` with ``ConversationStateField: CLOSE``."""

    model_config = ConfigDict(extra="ignore")
    kind: Literal["req"]
    id: str | int
    type: Literal["cm.UpdateConversationField"]
    body: UpdateConversationField


class _Open(BaseModel):
    """One request of the array that opens a conversation."""

    model_config = ConfigDict(extra="ignore")
    kind: Literal["req"]
    id: str | int
    type: Literal["userprofile.SetUserProfile", "cm.ConsumerRequestConversation"]
    body: dict[str, Any] = Field(default_factory=dict)


def _notification() -> dict[str, Any]:
    """``webhooks.envelope.route``'s checks, as a schema."""
    messaging_change = {
        "type": "object",
        "required": ["event"],
        "properties": {
            "event": {"type": "object", "required": ["type"], "properties": {"type": {"enum": list(MESSAGING_EVENTS)}}}
        },
    }
    envelope = {"kind": {"const": "notification"}}
    return {
        "oneOf": [
            {
                "type": "object",
                "required": ["kind", "type", "body"],
                "properties": {**envelope, "type": {"const": kind}, "body": _changes(change)},
            }
            for kind, change in ((MESSAGING, messaging_change), (CONVERSATION_CHANGE, {"type": "object"}))
        ]
    }


def _changes(change: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["changes"],
        "properties": {"changes": {"type": "array", "minItems": 1, "items": change}},
    }


def _model_schema(components: dict[str, Any], adapter: TypeAdapter[Any]) -> dict[str, Any]:
    schema = adapter.json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    return schema


TOKEN_FORM: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"const": "client_credentials"},
        "client_id": {"type": "string", "description": "With client_secret, unless HTTP Basic carries both."},
        "client_secret": {"type": "string"},
        "scope": {"type": "string", "description": "Space-separated; at most what the manifest registered."},
    },
}


def hand_read_bodies(components: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) → the body (media type → schema) of the routes that read their body themselves."""
    send = _model_schema(components, TypeAdapter(_Send | _Close))
    opening = _model_schema(components, TypeAdapter(list[_Open]))
    opening["minItems"] = 1
    consumer = _model_schema(components, TypeAdapter(ConsumerRequest))
    form = {"application/x-www-form-urlencoded": {"schema": TOKEN_FORM}}
    return {
        ("post", "/oauth2/token"): form,
        ("post", "/sentinel/api/account/{account_id}/app/token"): form,
        ("post", "/api/account/{account_id}/consumer"): {"application/json": {"schema": consumer}},
        ("post", "/api/account/{account_id}/messaging/consumer/conversation"): {
            "application/json": {"schema": opening}
        },
        ("post", "/api/account/{account_id}/messaging/consumer/conversation/send"): {
            "application/json": {"schema": send}
        },
        ("post", "/api/account/{account_id}/notifications"): {"application/json": {"schema": _notification()}},
        ("post", "/api/account/{account_id}/notifications:batch"): {
            "application/json": {
                "schema": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": _notification()}
            }
        },
    }
