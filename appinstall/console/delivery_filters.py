"""The delivery list's filters as a GET form sends them: every field a string, an empty one meaning "any".

Each bad value is ``Invalid`` with a sentence that says what to type instead, so the page answers 400 with the
form still filled in, never 500 or a silently empty list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from appinstall.errors import Invalid
from appinstall.manifest.vocabulary import EVENT_TYPES, event_type_named, short_event_name
from appinstall.webhooks.models import Status
from appinstall.webhooks.moments import NotATimeError, PastLatestError, moment_ms
from appinstall.webhooks.service import MAX_CONVERSATION_ID, DeliveryFilter

FIELDS = ("installation", "status", "event_type", "conversation", "since", "until")
MAX_INSTALLATION_ID = 36


@dataclass(frozen=True)
class FilterForm:
    """The filters as typed (to fill the form in again and to carry into links) and as the service takes them."""

    typed: dict[str, str]
    wanted: DeliveryFilter

    def query(self, **more: str) -> str:
        """The query string of these filters (the empty ones left out), with ``more`` such as a cursor."""
        return urlencode({name: value for name, value in {**self.typed, **more}.items() if value})


def moment(text: str, name: str) -> int:
    """Milliseconds since the epoch from what a person types: a ``datetime-local`` field's value (read as UTC), an
    RFC 3339 time with its zone, or milliseconds."""
    try:
        return moment_ms(text, zoneless_as_utc=True)
    except PastLatestError:
        raise Invalid("invalid-time", f"{name} is past 9999-12-31") from None
    except NotATimeError:
        raise Invalid(
            "invalid-time", f"{name} must be a time such as 2026-12-05T09:30 (UTC) or 2026-12-05T09:30:00+01:00"
        ) from None


def _status(text: str) -> Status:
    try:
        return Status(text)
    except ValueError:
        names = ", ".join(status.value for status in Status)
        raise Invalid("invalid-status", f"{text!r} is not a delivery status; choose one of {names}") from None


def _event_type(text: str) -> str:
    full = event_type_named(text)
    if full is None:
        names = ", ".join(short_event_name(event) for event in EVENT_TYPES)
        raise Invalid("unknown-event-type", f"{text!r} is not an event type; choose one of {names}")
    return full


def _bounded(text: str, name: str, longest: int) -> str:
    if len(text) > longest:
        raise Invalid("invalid-filter", f"{name} is longer than {longest} characters, which no such id is")
    return text


def read_filters(params: Mapping[str, str]) -> FilterForm:
    """The filters of a request's query parameters (``Invalid`` for the first bad one)."""
    typed = {name: params.get(name, "").strip() for name in FIELDS}
    wanted = DeliveryFilter(
        installation_id=_bounded(typed["installation"], "installation", MAX_INSTALLATION_ID) or None,
        status=_status(typed["status"]) if typed["status"] else None,
        event_type=_event_type(typed["event_type"]) if typed["event_type"] else None,
        conversation_id=_bounded(typed["conversation"], "conversation", MAX_CONVERSATION_ID) or None,
        since=moment(typed["since"], "since") if typed["since"] else None,
        until=moment(typed["until"], "until") if typed["until"] else None,
    )
    return FilterForm(typed, wanted)


def unfiltered() -> FilterForm:
    return FilterForm({name: "" for name in FIELDS}, DeliveryFilter())


__all__ = ["FIELDS", "FilterForm", "moment", "read_filters", "unfiltered"]
