"""Where a delivery is: the states a delivery row goes through, shared by the pure policy and the store's queries.

Its own module, below everything else of the delivery engine, so that the policy (``policy.Decision``), the data
shapes (``models``) and the queue's SQL name the same enum without importing one another.
"""

from __future__ import annotations

import enum
from typing import Final


class Status(enum.StrEnum):
    """Where a delivery is. ``blocked`` waits for an earlier delivery of the same conversation to finish; ``held``
    waits for its installation to recover (retention mode: the installation is FAILED)."""

    BLOCKED = "blocked"
    HELD = "held"
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


UNFINISHED: Final = (Status.BLOCKED, Status.HELD, Status.PENDING, Status.IN_FLIGHT)

__all__ = ["UNFINISHED", "Status"]
