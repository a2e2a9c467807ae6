"""Outcomes and retry decisions, as pure functions."""

from __future__ import annotations

import pytest

from appinstall.webhooks.policy import (
    Budget,
    Outcome,
    RetrySchedule,
    classify,
    decide,
    parse_retry_after,
    retry_after,
)
from appinstall.webhooks.status import Status

SCHEDULE = RetrySchedule(first_delay=1.0, factor=2.0, jitter=0.2)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (301, Outcome.FAILED),
        (302, Outcome.FAILED),
        (307, Outcome.FAILED),
        (400, Outcome.FAILED),
        (404, Outcome.FAILED),
        (410, Outcome.GONE),
        (429, Outcome.FAILED),
        (500, Outcome.FAILED),
        (503, Outcome.FAILED),
        (None, Outcome.FAILED),
    ],
)
def test_only_2xx_is_a_success_and_410_means_gone(status: int | None, outcome: Outcome) -> None:
    assert classify(status) is outcome


def _attempts_until_done(budget: Budget, *, step_ms: int = 0) -> int:
    """How many attempts a delivery that always fails gets, following the decisions."""
    now, attempts = 0, 0
    while True:
        attempts += 1
        decision = decide(
            Outcome.FAILED, budget=budget, schedule=SCHEDULE, attempts=attempts, round_started_at=0, now=now
        )
        if decision.status is not Status.PENDING:
            return attempts
        assert decision.retry_at is not None
        now = decision.retry_at + step_ms


@pytest.mark.parametrize("max_retries", range(6))
def test_a_failing_delivery_gets_exactly_one_plus_max_retries_attempts(max_retries: int) -> None:
    assert _attempts_until_done(Budget(max_retries=max_retries)) == 1 + max_retries


def test_the_delay_doubles_from_the_first_delay() -> None:
    delays = [SCHEDULE.delay(n, 0.5) for n in range(1, 6)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0]


@pytest.mark.parametrize("rand", [0.0, 0.25, 0.5, 0.999])
def test_jitter_stays_within_twenty_percent(rand: float) -> None:
    assert 0.8 * 4.0 <= SCHEDULE.delay(3, rand) <= 1.2 * 4.0


def test_with_a_retention_time_failures_are_retried_until_it_has_passed() -> None:
    budget = Budget(max_retries=1, retention_seconds=60)
    attempts = _attempts_until_done(budget)
    # 2 + 4 + 8 + 16 = 30 s of waits fit in 60 s; the next wait (32 s) would end after it.
    assert attempts == 5


def test_a_retention_time_without_max_retries_retries() -> None:
    # The platform's own installer sends retry.retention_time and no max_retries: that means "retry", not "once".
    assert _attempts_until_done(Budget(max_retries=None, retention_seconds=60)) == 5


def test_without_a_retention_time_an_absent_max_retries_means_no_retries() -> None:
    assert _attempts_until_done(Budget(max_retries=None)) == 1


def test_retention_mode_waits_two_then_four_then_eight_seconds() -> None:
    schedule = RetrySchedule(jitter=0.0)
    budget = Budget(max_retries=None, retention_seconds=259_200)
    waits = [
        decide(Outcome.FAILED, budget=budget, schedule=schedule, attempts=n, round_started_at=0, now=0).retry_at
        for n in (1, 2, 3)
    ]
    assert waits == [2_000, 4_000, 8_000]


def test_with_a_retention_time_the_delay_is_capped() -> None:
    schedule = RetrySchedule(first_delay=1.0, jitter=0.0, retention_cap=300.0)
    decision = decide(
        Outcome.FAILED,
        budget=Budget(max_retries=5, retention_seconds=259_200),
        schedule=schedule,
        attempts=20,
        round_started_at=0,
        now=0,
    )
    assert decision.retry_at == 300_000


def test_with_a_retention_time_max_retries_zero_drops_on_failure() -> None:
    decision = decide(
        Outcome.FAILED,
        budget=Budget(0, retention_seconds=3600),
        schedule=SCHEDULE,
        attempts=1,
        round_started_at=0,
        now=0,
    )
    assert decision.status is Status.FAILED
    assert decision.reason is not None and "max_retries is 0" in decision.reason


@pytest.mark.parametrize(
    ("budget", "opted_out"),
    [
        (Budget(0, retention_seconds=3600), True),
        (Budget(None, retention_seconds=3600), False),
        (Budget(3, retention_seconds=3600), False),
        (Budget(0), False),
    ],
)
def test_only_an_explicit_zero_in_retention_mode_opts_a_type_out(budget: Budget, opted_out: bool) -> None:
    assert budget.opted_out is opted_out


def test_gone_fails_at_once_and_disables_the_webhook() -> None:
    decision = decide(Outcome.GONE, budget=Budget(5), schedule=SCHEDULE, attempts=1, round_started_at=0, now=0)
    assert (decision.status, decision.disable_webhook) == ("failed", True)


def test_a_success_is_final() -> None:
    decision = decide(Outcome.DELIVERED, budget=Budget(5), schedule=SCHEDULE, attempts=3, round_started_at=0, now=0)
    assert decision.status is Status.SUCCEEDED


def test_retry_after_is_honoured_when_longer_than_the_schedule() -> None:
    decision = decide(
        Outcome.FAILED, budget=Budget(3), schedule=SCHEDULE, attempts=1, round_started_at=0, now=1_000, retry_after=30
    )
    assert decision.retry_at == 31_000


def test_retry_after_is_capped() -> None:
    schedule = RetrySchedule(jitter=0.0, retry_after_cap=60.0)
    decision = decide(
        Outcome.FAILED, budget=Budget(3), schedule=schedule, attempts=1, round_started_at=0, now=0, retry_after=86_400
    )
    assert decision.retry_at == 60_000


def test_a_short_retry_after_does_not_shorten_the_schedule() -> None:
    decision = decide(
        Outcome.FAILED, budget=Budget(3), schedule=SCHEDULE, attempts=3, round_started_at=0, now=0, retry_after=0
    )
    assert decision.retry_at == 4_000


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 90.0),
        ("soon", None),
        (None, None),
        ("-3", None),
        ("¹", None),  # a digit to str.isdigit, not to int()
        ("٣", None),  # a decimal digit, but not one a Retry-After may carry
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now_ms=10_000) == seconds


def test_the_cap_applies_after_jitter() -> None:
    schedule = RetrySchedule(first_delay=1.0, jitter=0.2)
    assert schedule.delay(20, 0.999, cap=300.0) == 300.0
    assert schedule.delay(2, 0.999, cap=300.0) < 2.4


@pytest.mark.parametrize("status_code", [429, 503])
def test_retry_after_counts_on_too_many_requests_and_unavailable(status_code: int) -> None:
    assert retry_after(status_code, "30", now_ms=0) == 30.0


@pytest.mark.parametrize("status_code", [200, 410, 500, 502, None])
def test_retry_after_on_any_other_answer_is_ignored(status_code: int | None) -> None:
    assert retry_after(status_code, "30", now_ms=0) is None


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    assert retry_after(503, "Thu, 01 Jan 1970 00:01:00 GMT", now_ms=20_000) == 40.0


def test_a_429_without_retry_after_asks_for_no_wait() -> None:
    assert retry_after(429, None, now_ms=0) is None


def test_every_decision_carries_a_status() -> None:
    decisions = [
        decide(outcome, budget=Budget(1), schedule=SCHEDULE, attempts=1, round_started_at=0, now=0)
        for outcome in Outcome
    ]
    assert [d.status for d in decisions] == [Status.SUCCEEDED, Status.PENDING, Status.FAILED]
    assert all(isinstance(d.status, Status) for d in decisions)
