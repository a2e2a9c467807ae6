"""The times a delivery query takes (``since``, ``until``), read from text: pure, for the API and the console.

Milliseconds since the epoch up to the last moment RFC 3339 can write, or an RFC 3339 time. The API requires a
time's zone; the console's ``datetime-local`` fields send none and are read as UTC. Each caller words its refusals.
"""

from __future__ import annotations

from datetime import UTC, datetime

LATEST_MOMENT_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z, the latest time RFC 3339 can write: a bound far inside a BIGINT column's range."""


class PastLatestError(ValueError):
    """Milliseconds past ``LATEST_MOMENT_MS``."""


class NotATimeError(ValueError):
    """Neither milliseconds nor a time (with its zone, unless zoneless times are read as UTC)."""


def moment_ms(text: str, *, zoneless_as_utc: bool = False) -> int:
    """The moment ``text`` names, in milliseconds since the epoch."""
    if text.isascii() and text.isdigit():  # not str.isdigit alone: it also takes "¹", which int() refuses
        if len(text) > len(str(LATEST_MOMENT_MS)) or int(text) > LATEST_MOMENT_MS:
            raise PastLatestError(text)
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise NotATimeError(text) from None
    if parsed.tzinfo is None:
        if not zoneless_as_utc:
            raise NotATimeError(text)
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return int(parsed.timestamp() * 1000)
    except (OverflowError, ValueError):  # year 1 at a zone east of UTC may fall before what a timestamp can be
        raise NotATimeError(text) from None
