"""How the command line shows a moment (UTC, to the second) and reads one (``10m`` ago, ms, or RFC 3339)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

MOMENT_FORMS: Final = "a time ago (30s, 10m, 2h, 1d), ms since the epoch, or RFC 3339 (2026-11-25T12:00:00Z)"

_AGO: Final = re.compile(r"([0-9]+)([smhd])")
_UNIT_MS: Final = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class MomentError(ValueError):
    """A time the command line cannot read; the message names the forms it takes."""


def utc_time(ms: int) -> str:
    """Milliseconds since the epoch (the store's unit) as ``2026-11-29 23:25:04``, in UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_moment(text: str, now_ms: int) -> int:
    """The moment ``text`` names, in ms since the epoch: ``10m`` is ten minutes before ``now_ms``.

    A person debugging a webhook thinks "the last hour", not in epoch milliseconds; scripts keep ms and RFC 3339.
    Pure (``now_ms`` is given) so the rule is tested without a clock. An RFC 3339 time must carry its zone, as
    the server requires, so that no one's local time is silently read as UTC.
    """
    value = text.strip()
    if value.isascii() and value.isdigit():  # not str.isdigit alone: it also takes "¹", which int() refuses
        return int(value)
    ago = _AGO.fullmatch(value)
    if ago:
        return now_ms - int(ago.group(1)) * _UNIT_MS[ago.group(2)]
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise MomentError(f"{text!r} is not a time; use {MOMENT_FORMS}")
    return int(moment.timestamp() * 1000)
