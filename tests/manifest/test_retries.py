from typing import Any

import pytest

from appinstall.manifest import Manifest, vocabulary
from appinstall.manifest.retries import (
    FIRST_DELAY_SECONDS,
    RETENTION_BACKOFF_CAP_SECONDS,
    duration,
    retry_summary,
)
from appinstall.settings import Settings
from appinstall.webhooks.policy import RetrySchedule


def _manifest(webhook: dict[str, Any], retention_time: int | None = None) -> Manifest:
    webhooks: dict[str, Any] = {vocabulary.CONTENT_EVENT: {"endpoint": "https://x.example/hook", **webhook}}
    if retention_time is not None:
        webhooks["retry"] = {"retention_time": retention_time}
    return Manifest.model_validate({"client_name": "App", "capabilities": {"webhooks": webhooks}})


def test_in_retention_mode_a_webhook_without_max_retries_is_retried_for_the_retention_time() -> None:
    assert retry_summary(_manifest({}, 3600)) == [
        "ContentEvent → https://x.example/hook: retried for 1 h (retention mode, backoff 2 s … 5 min)"
    ]


def test_in_retention_mode_max_retries_0_opts_the_webhook_out() -> None:
    assert retry_summary(_manifest({"max_retries": 0}, 3600)) == [
        "ContentEvent → https://x.example/hook: max_retries 0 in retention mode: not retried, dropped on failure"
    ]


def test_in_retention_mode_other_max_retries_are_overridden() -> None:
    [line] = retry_summary(_manifest({"max_retries": 3}, 86400))
    assert line.endswith("retried for 1 day (retention mode, overrides max_retries 3, backoff 2 s … 5 min)")


def test_without_retention_mode_max_retries_counts_the_retries() -> None:
    assert retry_summary(_manifest({"max_retries": 3})) == ["ContentEvent → https://x.example/hook: up to 3 retries"]


def test_without_retention_mode_max_retries_0_means_no_retries() -> None:
    [line] = retry_summary(_manifest({"max_retries": 0}))
    assert line.endswith(": no retries (max_retries 0)")


def test_without_retention_mode_an_absent_max_retries_means_no_retries() -> None:
    [line] = retry_summary(_manifest({}))
    assert line.endswith(": no retries (max_retries defaults to 0)")


def test_a_manifest_without_webhooks_has_no_summary() -> None:
    assert retry_summary(Manifest.model_validate({"client_name": "App"})) == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(2, "2 s"), (90, "1 min 30 s"), (3600, "1 h"), (5400, "1 h 30 min"), (86400, "1 day"), (259200, "3 days")],
)
def test_durations_read_in_their_two_largest_units(seconds: int, text: str) -> None:
    assert duration(seconds) == text


def test_the_summarised_backoff_is_the_delivery_workers_default() -> None:
    schedule = RetrySchedule()
    assert FIRST_DELAY_SECONDS == schedule.retention_first_delay == Settings().webhook_retention_first_delay_seconds
    assert schedule.retention_cap == RETENTION_BACKOFF_CAP_SECONDS
