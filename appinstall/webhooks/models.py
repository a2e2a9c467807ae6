"""Data shapes of webhook delivery: a job the worker sends, an attempt's result, the completion the recorder writes,
and the API's views of them.

``Status`` is defined in ``status`` (the pure policy uses it too) and named here as well, for the many readers of
the shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from appinstall.connector.signing import Algorithm, Encoding
from appinstall.webhooks.policy import Budget, Decision
from appinstall.webhooks.retention import DeliveryState
from appinstall.webhooks.status import UNFINISHED as UNFINISHED
from appinstall.webhooks.status import Status as Status


@dataclass(frozen=True)
class Job:
    """One claimed delivery with everything needed to send it, read at send time (so an edited manifest counts)."""

    seq: int
    id: str
    account_id: str
    installation_id: str
    event_type: str
    conversation_id: str | None
    body: bytes
    attempts: int
    round_attempts: int
    round_started_at: int
    endpoint: str | None  # None when the installation no longer subscribes to this event type
    headers: dict[str, str]
    budget: Budget
    secrets: list[str]  # the current secret first, then those still in their grace period
    refusal: str | None = None  # why it must not be sent at all (installation disabled, webhook disabled, …)
    # The account's choice for x-liveperson-signature, read at claim time like the rest.
    signature_algorithm: Algorithm = "sha1"
    signature_encoding: Encoding = "base64"


@dataclass(frozen=True)
class AttemptResult:
    """What happened on the wire. ``status_code`` is None when no response came (timeout, reset, refused); then
    ``error`` is the short, stable sentence and ``error_detail`` the HTTP library's own words."""

    started_at: int
    latency_ms: int
    status_code: int | None = None
    error: str | None = None
    error_detail: str | None = None
    retry_after: str | None = None
    excerpt: str | None = None


@dataclass(frozen=True)
class Completion:
    """One finished attempt to record: ``result`` is None when the delivery was refused unsent."""

    job: Job
    result: AttemptResult | None
    decision: Decision


class AttemptView(BaseModel):
    number: int
    at: int = Field(description="When it started, in ms since the epoch.")
    latency_ms: int
    status_code: int | None
    error: str | None = Field(description="Why it failed, short and stable (`connection refused`, …).")
    error_detail: str | None = Field(None, description="The HTTP library's own words for a failure without an answer.")
    response: str | None = Field(description="The first 4 KiB of the response body.")


class DeliveryView(BaseModel):
    id: str = Field(description="Also the `webhook-id` header: the same on every attempt.")
    installation_id: str
    event_type: str
    conversation_id: str | None
    status: Status
    attempts: int
    next_attempt_at: int | None
    created_at: int
    updated_at: int
    last_status_code: int | None
    last_error: str | None
    attempt_log: list[AttemptView] | None = Field(None, alias="attempt_log")
    notification: Any = Field(None, description="One delivery's read only: the body it sends, as JSON.")
    request_headers: dict[str, str] | None = Field(
        None,
        description="One delivery's read only: the headers of its last attempt (or of its first, before one), "
        "as the manifest says now, with the signatures masked.",
    )


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_cursor: str | None


# The publish answers are dataclasses, not models: a batch makes a thousand of each, built from values the service
# made or read (nothing to validate), and a model's construction cost more than the notification's insert. Not
# frozen either: a frozen dataclass sets each field through ``object.__setattr__``, three times the cost.
@dataclass(slots=True)
class PublishedDelivery:
    id: str
    installation_id: str
    event_type: str
    conversation_id: str | None
    status: Status


@dataclass(slots=True)
class PublishResult:
    deliveries: list[PublishedDelivery]


class BatchPublishResult(BaseModel):
    notifications: list[PublishResult] = Field(
        description="One entry per notification sent, in the order sent: the deliveries it made (maybe none)."
    )


class DeliveryStateView(BaseModel):
    """How an installation's webhooks are retried, and, in retention mode, whether they are failing."""

    retry_mode: Literal["retention", "count"] = Field(
        description="`retention` when the manifest sets `retry.retention_time`, else `count` (`max_retries`)."
    )
    retention_time: int | None = Field(description="Seconds a failed notification keeps being retried.")
    state: DeliveryState = Field(description="`up`, `failed`, `recovering` or `recovered`; always `up` by count.")
    since: int | None = Field(description="When the state began, in ms since the epoch.")
    reason: str | None = Field(description="What failed, for `failed` and what followed it.")
    held: int = Field(description="Deliveries held until the installation recovers.")


class WebhookHealthView(BaseModel):
    event_type: str
    enabled: bool
    consecutive_failures: int
    failing_since: int | None
    last_success_at: int | None
    last_failure_at: int | None
    disabled_at: int | None
    disabled_reason: str | None


def health_view(row: Any) -> WebhookHealthView:
    return WebhookHealthView(
        event_type=row.event_type,
        enabled=row.disabled_at is None,
        consecutive_failures=row.consecutive_failures,
        failing_since=row.failing_since,
        last_success_at=row.last_success_at,
        last_failure_at=row.last_failure_at,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
    )
