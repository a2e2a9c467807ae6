"""The ``capabilities.webhooks`` object: a webhook per event type, its headers, and the shared retry policy.

The event-type fields are made from the vocabulary (``vocabulary.EVENTS``), one per event type under the
platform's key, so that adding an event type changes this model, its schema and the reference tables at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, StrictInt, ValidationInfo, create_model, field_validator, model_validator

from appinstall.manifest import rules, vocabulary
from appinstall.manifest.fields import Endpoint, HeaderName, HeaderValue
from appinstall.manifest.strict import StrictModel, reject_null, rule_error


class Header(StrictModel):
    """One custom HTTP header added to every notification request of a webhook."""

    header_name: HeaderName = Field(description="An HTTP header name; not one the platform sets itself.")
    header_value: HeaderValue = Field(description="Its value: one line, no control characters.")


class Webhook(StrictModel):
    """Where, and how insistently, the platform delivers one type of notification."""

    endpoint: Endpoint = Field(description="The https:// URL that receives the notifications.")
    max_retries: StrictInt | None = Field(
        None,
        ge=0,
        le=rules.MAX_RETRIES_MAX,
        description="Retries after a failed first attempt, 0 to 5 (0 when absent). With `retry.retention_time` "
        "set, a webhook without it is retried for the retention time, and `0` opts it out.",
    )
    headers: list[Header] = Field(
        default_factory=list,
        max_length=rules.HEADERS_MAX,
        json_schema_extra={"default": [], "uniqueItems": True},
        description="Extra HTTP headers for each request, at most 20.",
    )

    @field_validator("max_retries", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return reject_null(value)

    @field_validator("headers", mode="after")
    @classmethod
    def _header_names_unique(cls, headers: list[Header]) -> list[Header]:
        if len({header.header_name.lower() for header in headers}) == len(headers):
            return headers
        seen: set[str] = set()
        for index, header in enumerate(headers):
            key = header.header_name.lower()
            if key in seen:
                raise rule_error(
                    "duplicate",
                    "header {name} is listed more than once (names ignore case)",
                    {
                        "name": header.header_name,
                        "at": (index, "header_name"),
                        "hint": "keep one header per name; to send several values, join them with commas",
                    },
                )
            seen.add(key)
        return headers


class RetryPolicy(StrictModel):
    """The platform's newer retry policy: keep retrying with backoff for this long."""

    retention_time: StrictInt = Field(
        ge=rules.RETENTION_TIME_MIN,
        le=rules.RETENTION_TIME_MAX,
        description="Seconds during which failed deliveries keep being retried, 2 to 259200 (3 days).",
    )


def _event_fields() -> dict[str, Any]:
    """One optional webhook per event type, under the platform's name for it."""
    return {
        event.field: (Webhook | None, Field(None, alias=event.name, description=event.description))
        for event in vocabulary.EVENTS
    }


# The event-type fields, in the vocabulary's order; ``Webhooks`` adds the retry policy after them. (To mypy this
# is the base model: the fields are read by their platform names, through ``Webhooks.subscriptions``.)
if TYPE_CHECKING:
    _EventWebhooks = StrictModel
else:
    _EventWebhooks = create_model("_EventWebhooks", __base__=StrictModel, **_event_fields())


class Webhooks(_EventWebhooks):
    """Subscriptions by notification type, plus an optional retry policy for all of them."""

    retry: RetryPolicy | None = Field(None, description="Retry by retention time instead of by count.")

    @model_validator(mode="before")
    @classmethod
    def _normalise_legacy_spelling(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or vocabulary.LEGACY_EX_CONVERSATION_CHANGE not in data:
            return data
        if vocabulary.EX_CONVERSATION_CHANGE in data:
            raise rule_error(
                "duplicate",
                "the conversation-change webhook is given under both {legacy} and {current}",
                {
                    "legacy": vocabulary.LEGACY_EX_CONVERSATION_CHANGE,
                    "current": vocabulary.EX_CONVERSATION_CHANGE,
                    "at": (vocabulary.LEGACY_EX_CONVERSATION_CHANGE,),
                    "hint": f"keep only {vocabulary.EX_CONVERSATION_CHANGE}",
                },
            )
        if isinstance(info.context, dict):
            info.context.setdefault("warnings", []).append(vocabulary.LEGACY_EX_CONVERSATION_CHANGE)
        renamed = dict(data)
        renamed[vocabulary.EX_CONVERSATION_CHANGE] = renamed.pop(vocabulary.LEGACY_EX_CONVERSATION_CHANGE)
        return renamed

    @field_validator(*(event.field for event in vocabulary.EVENTS), "retry", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return reject_null(value)

    def subscriptions(self) -> dict[str, Webhook]:
        """The subscribed event types and their webhooks, keyed by the platform's names, in the vocabulary's order."""
        subscribed = {event.name: getattr(self, event.field) for event in vocabulary.EVENTS}
        return {name: webhook for name, webhook in subscribed.items() if webhook is not None}
