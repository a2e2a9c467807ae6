"""How a delivery is shown in the console: one row of the list (the same for the page and for ``live.js``), its
status as words and a class, installations by name, and request headers with every secret masked."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from appinstall.errors import NotFound
from appinstall.manifest.vocabulary import short_event_name
from appinstall.registry import service as registry
from appinstall.webhooks.models import DeliveryView, Status
from appinstall.webhooks.request import MASK

_STATUS_CLASSES = {Status.SUCCEEDED: "ok", Status.FAILED: "bad"}
_MASKED_SIGNATURE = re.compile(rf"[A-Za-z0-9]{{1,16}}[=,]{MASK}( v1,{MASK})*")
_SECRET_WORDS = ("authorization", "signature", "secret", "token", "password", "api-key", "apikey", "cookie")


def status_class(status: Status) -> str:
    """The colour of a status (``ok``, ``bad``, else ``warn`` for one still on its way); its word is shown too."""
    return _STATUS_CLASSES.get(status, "warn")


def shown_time(ms: int | None) -> str:
    """A time as the page shows it before its script puts it in the reader's zone."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


async def installation_names(account: Any, installation_ids: Iterable[str]) -> dict[str, str]:
    """Each installation's name (its ``client_name``), or its id when it has none or is gone."""
    names: dict[str, str] = {}
    for installation_id in installation_ids:
        try:
            installation = await registry.get(account.store, account.account_id, installation_id, with_secret=False)
        except NotFound:
            names[installation_id] = installation_id
            continue
        names[installation_id] = installation.display_name
    return names


def row_of(item: DeliveryView, names: Mapping[str, str], account_url: str) -> dict[str, Any]:
    """One row of the list, as plain data: the template renders it, ``live.js`` builds the same row from it."""
    return {
        "id": item.id,
        "url": f"{account_url}/installations/{item.installation_id}/deliveries/{item.id}",
        "at": item.created_at,
        "at_text": shown_time(item.created_at),
        "installation_id": item.installation_id,
        "installation": names.get(item.installation_id, item.installation_id),
        "installation_url": f"{account_url}/installations/{item.installation_id}/webhooks",
        "event_type": short_event_name(item.event_type),
        "conversation_id": item.conversation_id or "",
        "status": item.status.value,
        "status_class": status_class(item.status),
        "attempts": item.attempts,
        "last_status_code": item.last_status_code,
    }


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers with any value that could be a credential masked, whatever the service already masked: the
    page is read over shoulders and in screenshots."""
    return {
        name: MASK if any(word in name.lower() for word in _SECRET_WORDS) and not _already_masked(value) else value
        for name, value in headers.items()
    }


def _already_masked(value: str) -> bool:
    """A signature the service masked keeps its scheme (``sha1=…``, ``v1,…``), which tells the reader its kind."""
    return value == MASK or _MASKED_SIGNATURE.fullmatch(value) is not None


__all__ = ["installation_names", "masked_headers", "row_of", "shown_time", "status_class"]
