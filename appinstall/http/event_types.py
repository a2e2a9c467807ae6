"""Event types as the HTTP API takes them: the full name or the short one, or a 400 that lists the five."""

from __future__ import annotations

from appinstall.http.problems import ProblemError
from appinstall.manifest import Problem
from appinstall.manifest.vocabulary import EVENT_TYPES, event_type_named, short_event_name


def event_type_argument(name: str, *, where: str) -> str:
    """The full event type ``name`` means (``ContentEvent`` or ``ms.MessagingEventNotification.ContentEvent``).

    ``where`` is the parameter's name, for the problem's pointer. An unknown name is a 400 that lists every event
    type, short and full, rather than a silent empty answer or a 404 that reads as "not found".
    """
    full = event_type_named(name)
    if full is None:
        names = ", ".join(short_event_name(event) for event in EVENT_TYPES)
        raise ProblemError(
            400,
            "unknown-event-type",
            f"{name!r} is not an event type; use one of {names} (or the full name, such as {EVENT_TYPES[0]})",
            errors=[Problem(f"/{where}", "not_allowed", f"must be one of: {names}")],
        )
    return full
