"""The Send API's per-consumer token bucket, as pure code with a given clock."""

from __future__ import annotations

import pytest

from appinstall.sandbox.ratelimit import SendLimiter, retry_after_header


def test_a_burst_is_allowed_then_the_next_request_waits_for_one_token() -> None:
    limiter = SendLimiter(per_second=2, burst=3)
    assert [limiter.take("john", 10.0) for _ in range(3)] == [None, None, None]
    assert limiter.take("john", 10.0) == pytest.approx(0.5)


def test_tokens_come_back_at_the_configured_rate() -> None:
    limiter = SendLimiter(per_second=2, burst=1)
    assert limiter.take("john", 0.0) is None
    assert limiter.take("john", 0.25) == pytest.approx(0.25)
    assert limiter.take("john", 0.5) is None


def test_a_refused_request_spends_nothing() -> None:
    limiter = SendLimiter(per_second=1, burst=1)
    limiter.take("john", 0.0)
    assert limiter.take("john", 0.5) == pytest.approx(0.5)
    assert limiter.take("john", 1.0) is None


def test_each_consumer_has_its_own_bucket() -> None:
    limiter = SendLimiter(per_second=1, burst=1)
    assert limiter.take("john", 0.0) is None
    assert limiter.take("jane", 0.0) is None
    assert limiter.take("john", 0.0) is not None


def test_past_its_size_the_limiter_forgets_the_key_idle_the_longest() -> None:
    limiter = SendLimiter(per_second=1, burst=1, max_keys=2)
    limiter.take("idle", 0.0)
    limiter.take("busy", 5.0)
    limiter.take("new", 5.0)  # one key too many: "idle" goes, "busy" stays
    assert len(limiter) == 2
    assert limiter.take("busy", 5.0) is not None  # still spent: its bucket was kept
    assert limiter.take("idle", 5.0) is None  # forgotten, so it starts again from a full bucket


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60")])
def test_retry_after_is_whole_seconds_rounded_up(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header


@pytest.mark.parametrize(("per_second", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_a_limiter_without_room_is_refused(per_second: float, burst: int) -> None:
    with pytest.raises(ValueError, match="per_second must be positive"):
        SendLimiter(per_second=per_second, burst=burst)
