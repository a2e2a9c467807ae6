"""Retention mode's installation states, as pure transitions."""

from __future__ import annotations

import pytest

from appinstall.webhooks.retention import DRAIN_MS, DeliveryState, after_attempt, shown

UP, FAILED, RECOVERING, RECOVERED = (
    DeliveryState.UP,
    DeliveryState.FAILED,
    DeliveryState.RECOVERING,
    DeliveryState.RECOVERED,
)


@pytest.mark.parametrize("state", [UP, FAILED, RECOVERING, RECOVERED])
def test_a_failure_fails_the_installation_from_any_state(state: DeliveryState) -> None:
    assert after_attempt(state, succeeded=False, was_retry=False, opted_out=False) is FAILED


@pytest.mark.parametrize("state", [UP, RECOVERING, RECOVERED])
def test_the_failure_of_a_type_opted_out_changes_nothing(state: DeliveryState) -> None:
    assert after_attempt(state, succeeded=False, was_retry=False, opted_out=True) is state


def test_a_successful_retry_starts_the_recovery() -> None:
    assert after_attempt(FAILED, succeeded=True, was_retry=True, opted_out=False) is RECOVERING


def test_a_success_that_was_no_retry_does_not_end_a_failure() -> None:
    # it was in flight when another endpoint failed: the failing one may still be down
    assert after_attempt(FAILED, succeeded=True, was_retry=False, opted_out=False) is FAILED


@pytest.mark.parametrize("state", [UP, RECOVERING, RECOVERED])
def test_a_success_keeps_any_other_state(state: DeliveryState) -> None:
    assert after_attempt(state, succeeded=True, was_retry=True, opted_out=False) is state


def test_recovered_is_shown_as_up_once_its_drain_period_is_over() -> None:
    assert shown(RECOVERED, since=1_000, now=1_000 + DRAIN_MS - 1) is RECOVERED
    assert shown(RECOVERED, since=1_000, now=1_000 + DRAIN_MS) is UP


@pytest.mark.parametrize("state", [UP, FAILED, RECOVERING])
def test_other_states_are_shown_as_they_are(state: DeliveryState) -> None:
    assert shown(state, since=0, now=10 * DRAIN_MS) is state
