"""An installation's routes: for each event type it subscribes to, where to send it and how insistently.

The delivery worker (``webhooks/claims.py``), the API's delivery views and discovery (``registry/models.py``) all
need the same few facts from a manifest; each used to read the stored ``dict`` by hand, with its own rule for which
keys are event types and its own default for ``max_retries``. They read this projection instead.

It is computed from the manifest as stored: the document ``Manifest.to_document`` made when the manifest was
validated. It is not validated again here: a manifest stored under an earlier version's rules, or with a
development server's ``http://localhost`` endpoint, still routes as it did. Which keys are event types is the
vocabulary's answer; ``max_retries`` is ``None`` when the manifest leaves it out, and the delivery policy decides
what that means (no retries by count; the whole retention time in retention mode). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from appinstall.manifest.vocabulary import EVENTS


@dataclass(frozen=True, slots=True)
class Route:
    """Where and how one installation sends one event type."""

    endpoint: str
    headers: dict[str, str] = field(default_factory=dict)  # name → value, in the manifest's order
    max_retries: int | None = None  # as the manifest gives it; None when it leaves it out
    retention_time: int | None = None  # the shared ``retry.retention_time`` (seconds): retention mode when set


@dataclass(frozen=True, slots=True)
class Routes:
    """Every route of one manifest, by event type in the vocabulary's order, and its retention time."""

    by_event_type: dict[str, Route] = field(default_factory=dict)
    retention_time: int | None = None

    def get(self, event_type: str) -> Route | None:
        return self.by_event_type.get(event_type)

    @property
    def event_types(self) -> tuple[str, ...]:
        """The subscribed event types, in the vocabulary's order."""
        return tuple(self.by_event_type)


def _route(webhook: Mapping[str, Any], retention_time: int | None) -> Route:
    return Route(
        endpoint=webhook["endpoint"],
        headers={header["header_name"]: header["header_value"] for header in webhook.get("headers") or ()},
        max_retries=webhook.get("max_retries"),
        retention_time=retention_time,
    )


def routes_of(manifest: Mapping[str, Any]) -> Routes:
    """The routes of a stored manifest (``Manifest.to_document``'s shape), its header values as they are in it."""
    webhooks: Mapping[str, Any] = (manifest.get("capabilities") or {}).get("webhooks") or {}
    retention_time: int | None = (webhooks.get("retry") or {}).get("retention_time")
    subscribed = {event.name: webhooks.get(event.name) for event in EVENTS}
    return Routes(
        {name: _route(webhook, retention_time) for name, webhook in subscribed.items() if webhook is not None},
        retention_time,
    )
