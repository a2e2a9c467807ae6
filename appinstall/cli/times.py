"""How the command line shows a moment: UTC, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_time(ms: int) -> str:
    """Milliseconds since the epoch (the store's unit) as ``2026-11-29 23:25:04``, in UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
