"""How fast a consumer may call the Send API: a token bucket per consumer, as pure code.

The platform answers 429 when a consumer sends too fast; connectors must handle it, so the sandbox does too, and
a developer can see their connector back off. The buckets live in the serving process (a sandbox does not need
a limit shared by several API processes). The clock is passed in, so the policy is tested without waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

# The platform documents 429 for the Send API without an errorCode of its own; ours, like 40401, is ours.
TOO_MANY_REQUESTS: Final = 42901


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class SendLimiter:
    """At most ``burst`` requests at once per key, refilled at ``per_second``.

    Memory is bounded by ``max_keys`` buckets: past it, the key that has gone longest without a request is
    forgotten (it starts again from a full bucket, which for a consumer idle that long it almost always is).
    """

    def __init__(self, per_second: float, burst: int, *, max_keys: int = 10_000) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be positive and burst at least 1")
        self.per_second = per_second
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}  # least recently used first

    def take(self, key: str, now: float) -> float | None:
        """Spend one request of ``key`` at ``now`` (seconds): None if allowed, else the seconds to wait."""
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                del self._buckets[next(iter(self._buckets))]
            bucket = _Bucket(float(self.burst), now)
        self._buckets[key] = bucket  # now the most recently used
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated_at) * self.per_second)
        bucket.updated_at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self.per_second

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after_header(wait_seconds: float) -> str:
    """Whole seconds, rounded up, at least 1 (``Retry-After`` takes no fractions)."""
    return str(max(1, math.ceil(wait_seconds)))
