"""What a manifest's webhooks will do when a delivery fails, in one sentence per webhook.

Two settings interact and the combination surprises people: with ``webhooks.retry.retention_time`` set (retention
mode), a webhook without ``max_retries`` is retried with backoff for the whole retention time, an explicit
``max_retries: 0`` opts it out (dropped on failure), and any other ``max_retries`` is overridden. Without it,
``max_retries`` (0 when absent) counts the retries. ``appinstall validate`` prints these sentences so that the
author reads the behaviour rather than working it out.
"""

from __future__ import annotations

from typing import Final

from appinstall.manifest.models import Manifest
from appinstall.manifest.subscriptions import Webhook
from appinstall.manifest.vocabulary import short_event_name

# The delivery worker's defaults in retention mode (``APPINSTALL_WEBHOOK_RETENTION_FIRST_DELAY_SECONDS`` and
# ``RetrySchedule``'s cap, the platform's 2 s and 5 minutes); a test keeps them equal to the worker's.
FIRST_DELAY_SECONDS: Final = 2.0
RETENTION_BACKOFF_CAP_SECONDS: Final = 300.0

_UNITS: Final = (("day", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def duration(seconds: float) -> str:
    """A duration in the largest two units that describe it: ``1 h``, ``1 h 30 min``, ``3 days``, ``2 s``."""
    remaining = round(seconds)
    parts = []
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''}")
    return " ".join(parts[:2]) or f"{seconds:g} s"


def webhook_retries(webhook: Webhook, retention_time: int | None) -> str:
    """What happens when a delivery to this webhook fails."""
    if retention_time is not None:
        if webhook.max_retries == 0:
            return "max_retries 0 in retention mode: not retried, dropped on failure"
        backoff = f"backoff {duration(FIRST_DELAY_SECONDS)} … {duration(RETENTION_BACKOFF_CAP_SECONDS)}"
        overridden = "" if webhook.max_retries is None else f", overrides max_retries {webhook.max_retries}"
        return f"retried for {duration(retention_time)} (retention mode{overridden}, {backoff})"
    if webhook.max_retries is None:
        return "no retries (max_retries defaults to 0)"
    if webhook.max_retries == 0:
        return "no retries (max_retries 0)"
    return f"up to {webhook.max_retries} {'retry' if webhook.max_retries == 1 else 'retries'}"


def retry_summary(manifest: Manifest) -> list[str]:
    """One line per subscribed webhook, ``ContentEvent → https://…: up to 3 retries``, in the platform's order."""
    webhooks = manifest.capabilities.webhooks if manifest.capabilities is not None else None
    if webhooks is None:
        return []
    retention_time = webhooks.retry.retention_time if webhooks.retry is not None else None
    return [
        f"{short_event_name(event)} → {webhook.endpoint}: {webhook_retries(webhook, retention_time)}"
        for event, webhook in webhooks.subscriptions().items()
    ]
