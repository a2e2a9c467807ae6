"""Shapes of installations as stored and as served on the platform's wire."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Final

from appinstall.manifest import rules
from appinstall.manifest.routes import Routes, routes_of
from appinstall.manifest.vocabulary import ENGAGEMENT_VOCABULARIES
from appinstall.registry.header_values import masked_values

# Fields the server owns (defined with the manifest's rules, which warn about them). The platform's clients GET an
# installation and PUT the whole object back, so these arrive in PUT bodies too; they are checked or ignored
# there, never taken from the client.
SERVER_FIELDS: Final = rules.SERVER_FIELDS

# Discovery: capability kinds that can be filtered on, each a list of values in the manifest.
ENGAGEMENT_FILTERS: Final = tuple(ENGAGEMENT_VOCABULARIES)
WEBHOOK_KIND: Final = "webhook"
MAX_OLD_SECRETS: Final = 5


@dataclass(frozen=True)
class Installation:
    """One installed app. ``client_secret`` is the decrypted current secret, or None when not loaded."""

    id: str
    account_id: str
    manifest: dict[str, Any]
    enabled: bool
    deleted: bool
    revision: int
    client_id_issued_at: int
    created_at: int
    updated_at: int
    client_secret: str | None = None

    @property
    def display_name(self) -> str:
        """What to call it where people read: its ``client_name`` (required by the manifest), else its id."""
        return str(self.manifest.get("client_name") or self.id)

    @property
    def client_id(self) -> str:
        return self.id

    @functools.cached_property
    def routes(self) -> Routes:
        """Where and how its manifest sends each event type it subscribes to, projected once."""
        return routes_of(self.manifest)

    def to_wire(self, *, show_secret: bool) -> dict[str, Any]:
        """The platform's shape: the manifest's fields plus the client credentials and state. Without
        ``show_secret``, the webhook header values are masked as well as the secret left out."""
        wire: dict[str, Any] = {"id": self.id, **(self.manifest if show_secret else masked_values(self.manifest))}
        wire["client_id"] = self.id
        if show_secret and self.client_secret is not None:
            wire["client_secret"] = self.client_secret
        wire["client_id_issued_at"] = self.client_id_issued_at
        wire["client_secret_expires_at"] = 0
        wire["enabled"] = self.enabled
        wire["deleted"] = self.deleted
        return wire


@dataclass(frozen=True)
class InstallationFilter:
    """What a list or discovery query asks for. Every given criterion must hold (AND)."""

    client_name: str | None = None
    enabled: bool | None = None
    include_deleted: bool = False
    event_types: tuple[str, ...] = ()
    engagement: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def capability_pairs(self) -> list[tuple[str, str]]:
        pairs = [(WEBHOOK_KIND, event) for event in self.event_types]
        pairs += [(kind, value) for kind, values in self.engagement.items() for value in values]
        return pairs


def capability_rows(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """The (kind, value) pairs by which other apps can discover this manifest's app."""
    rows = [(WEBHOOK_KIND, event) for event in routes_of(manifest).event_types]
    engagement = manifest.get("capabilities", {}).get("engagement", {})
    rows += [(kind, value) for kind in ENGAGEMENT_FILTERS for value in engagement.get(kind, ())]
    return rows


@dataclass(frozen=True)
class Page:
    items: list[Installation]
    next_cursor: str | None
