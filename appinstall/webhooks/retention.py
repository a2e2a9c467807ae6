"""Retention mode's installation state, as the platform describes it: pure transitions, unit-tested without I/O.

When a manifest sets ``capabilities.webhooks.retry.retention_time``, its webhooks fail and recover together:

* **UP**: notifications go out as they come.
* **FAILED**: an attempt failed (any type but one opted out with ``max_retries: 0``). The failed deliveries are
  retried with backoff; every other notification of the installation is *held*, whatever its endpoint.
* **RECOVERING** (the platform's "in transition"): a retry succeeded. What was held is sent, in order per
  conversation; a new conversation's notifications go out at once, and those of a conversation still draining
  queue behind it.
* **RECOVERED**: everything held before the recovery has been sent; shown for ``DRAIN_MS``, then the installation
  is UP again.

A failure in any state but FAILED makes it FAILED again. ``holding`` applies these transitions to the store.
"""

from __future__ import annotations

import enum
from typing import Final

DRAIN_MS: Final = 30_000


class DeliveryState(enum.StrEnum):
    UP = "up"
    FAILED = "failed"
    RECOVERING = "recovering"
    RECOVERED = "recovered"


def after_attempt(state: DeliveryState, *, succeeded: bool, was_retry: bool, opted_out: bool) -> DeliveryState:
    """The installation's state after one attempt was sent.

    ``was_retry``: the delivery had failed before in this round. Only such a success ends a failure: a delivery that
    was already in flight when the installation failed says nothing about whether the failing endpoint is back.
    ``opted_out``: its type has ``max_retries: 0``, so its failure is dropped and fails nothing.
    """
    if not succeeded:
        return state if opted_out else DeliveryState.FAILED
    if state is DeliveryState.FAILED and was_retry:
        return DeliveryState.RECOVERING
    return state


def shown(state: DeliveryState, since: int, now: int) -> DeliveryState:
    """The state as reported: RECOVERED turns back into UP once its drain period is over."""
    if state is DeliveryState.RECOVERED and now - since >= DRAIN_MS:
        return DeliveryState.UP
    return state
