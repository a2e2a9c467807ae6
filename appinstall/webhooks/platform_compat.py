"""Where appinstall is more lenient than the platform, and the dev-mode warning that says so.

appinstall counts any 2xx answer as delivered, as webhook senders generally do; the platform counts only 200 and
201 and retries the rest. A receiver that answers 202 or 204 works here and then sees every notification again
(until its retries run out) once it is connected to the platform. In dev mode the worker says so, once per
(installation, event type, status) and process: enough to be noticed, never a flood.
"""

from __future__ import annotations

from typing import Final

PLATFORM_SUCCESS: Final = (200, 201)


def platform_would_retry(status_code: int | None) -> bool:
    """Whether an answer counted here as delivered (a 2xx) is one the platform would count as failed."""
    return status_code is not None and 200 <= status_code < 300 and status_code not in PLATFORM_SUCCESS


class LenientSuccessWarnings:
    """Remembers which (installation, event type, status) it has warned about, so each is warned about once."""

    def __init__(self) -> None:
        self._warned: set[tuple[str, str, int]] = set()

    def warning(self, installation_id: str, event_type: str, status_code: int | None) -> str | None:
        """The warning to log for this answer, or None: not a lenient success, or already warned about."""
        if status_code is None or not platform_would_retry(status_code):
            return None
        key = (installation_id, event_type, status_code)
        if key in self._warned:
            return None
        self._warned.add(key)
        return (
            f"installation {installation_id}: the {event_type} endpoint answered {status_code}; the platform "
            f"counts only 200 and 201 as delivered and would retry this"
        )


__all__ = ["PLATFORM_SUCCESS", "LenientSuccessWarnings", "platform_would_retry"]
