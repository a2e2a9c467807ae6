"""What an attempt's result means and when to try again: pure functions, unit-tested without I/O.

Only a 2xx answer is a success. A redirect is a failure (it is never followed: the endpoint is the one the
manifest names). 410 Gone gives up at once and disables the webhook. Every other status, and every timeout,
reset or TLS error, is a failure that is retried while the budget allows:

* by count (``max_retries``, 0 to 5, after the first attempt; none when absent) on an exponential schedule
  with jitter;
* or, when the manifest sets ``webhooks.retry.retention_time`` (retention mode, the platform's newer policy, which
  overrides ``max_retries``), until that long after the notification, from 2 s and doubling up to 5 minutes; there
  an explicit ``max_retries: 0`` opts a type out ("drop on failure"), and an absent one retries.

A ``Retry-After`` on 429 or 503 is honoured (capped): the next attempt waits at least that long
(``retry_after``); on any other status it is ignored.
"""

from __future__ import annotations

import email.utils
import enum
from dataclasses import dataclass
from typing import Final

from appinstall.webhooks.status import Status


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    FAILED = "failed"
    GONE = "gone"


def classify(status_code: int | None) -> Outcome:
    """The outcome of an attempt from its HTTP status; ``None`` (no response at all) is a failure."""
    if status_code is None:
        return Outcome.FAILED
    if 200 <= status_code < 300:
        return Outcome.DELIVERED
    if status_code == 410:
        return Outcome.GONE
    return Outcome.FAILED


def parse_retry_after(value: str | None, now_ms: int) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date); None if absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not str.isdigit alone: it also takes "¹", which int() refuses
        return float(int(value))
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now_ms / 1000)


# The answers whose Retry-After says when to come back: Too Many Requests and Service Unavailable (RFC 9110 §10.2.3
# allows it on others, where it means nothing to a retry).
RETRY_AFTER_STATUSES: Final = frozenset({429, 503})


def retry_after(status_code: int | None, value: str | None, now_ms: int) -> float | None:
    """Seconds an answer asks the next attempt to wait: its ``Retry-After`` on 429 or 503, else None."""
    if status_code not in RETRY_AFTER_STATUSES:
        return None
    return parse_retry_after(value, now_ms)


@dataclass(frozen=True)
class RetrySchedule:
    """Delays between attempts. ``delay(n)`` is the wait before retry number ``n`` (1-based)."""

    first_delay: float = 1.0
    factor: float = 2.0
    jitter: float = 0.2
    retention_first_delay: float = 2.0  # the platform's retention mode: 2 s, 4 s, 8 s, …
    retention_cap: float = 300.0  # … and at most 5 minutes between two retries
    retry_after_cap: float = 300.0

    def delay(self, retry: int, rand: float, *, first: float | None = None, cap: float | None = None) -> float:
        """Exponential from ``first`` (``first_delay`` by default), times a factor in [1 - jitter, 1 + jitter]
        chosen by ``rand`` in [0, 1), and at most ``cap`` (jitter included)."""
        start = self.first_delay if first is None else first
        delay = start * self.factor ** min(retry - 1, 64) * (1 + self.jitter * (2 * rand - 1))
        return delay if cap is None else min(delay, cap)


@dataclass(frozen=True)
class Budget:
    """How insistently one webhook is retried: its ``max_retries`` (None when the manifest leaves it out) and the
    manifest's retention time, if any."""

    max_retries: int | None
    retention_seconds: int | None = None

    @property
    def retention_mode(self) -> bool:
        return self.retention_seconds is not None

    @property
    def opted_out(self) -> bool:
        """In retention mode, an explicit ``max_retries: 0`` drops this type's failures instead of retrying them
        (and they do not fail the installation)."""
        return self.retention_mode and self.max_retries == 0


@dataclass(frozen=True)
class Decision:
    """What to do after an attempt: done (``status`` succeeded or failed) or retry at ``retry_at`` (ms)."""

    status: Status  # SUCCEEDED, FAILED or PENDING
    retry_at: int | None = None
    reason: str | None = None
    disable_webhook: bool = False


def decide(
    outcome: Outcome,
    *,
    budget: Budget,
    schedule: RetrySchedule,
    attempts: int,
    round_started_at: int,
    now: int,
    retry_after: float | None = None,
    rand: float = 0.5,
) -> Decision:
    """The next step after attempt number ``attempts`` (1-based) of the current round.

    ``round_started_at`` is when the delivery was first queued (or re-queued by a retry or recovery): a retention
    time counts from there.
    """
    if outcome is Outcome.DELIVERED:
        return Decision(Status.SUCCEEDED)
    if outcome is Outcome.GONE:
        return Decision(
            Status.FAILED, reason="the endpoint answered 410 Gone; the webhook is disabled", disable_webhook=True
        )
    if budget.opted_out:
        return Decision(Status.FAILED, reason="max_retries is 0: this type is not retried in retention mode")
    waited = max(0.0, min(retry_after, schedule.retry_after_cap)) if retry_after is not None else 0.0
    if budget.retention_seconds is not None:
        delay = schedule.delay(attempts, rand, first=schedule.retention_first_delay, cap=schedule.retention_cap)
        retry_at = now + round(max(delay, waited) * 1000)
        if retry_at > round_started_at + budget.retention_seconds * 1000:
            return Decision(Status.FAILED, reason=f"retention time of {budget.retention_seconds} s has passed")
        return Decision(Status.PENDING, retry_at=retry_at)
    max_retries = budget.max_retries or 0
    if max_retries == 0:
        return Decision(Status.FAILED, reason="max_retries is 0: no retries")
    if attempts > max_retries:
        return Decision(Status.FAILED, reason=f"gave up after {attempts} attempts (max_retries {max_retries})")
    delay = max(schedule.delay(attempts, rand), waited)
    return Decision(Status.PENDING, retry_at=now + round(delay * 1000))
