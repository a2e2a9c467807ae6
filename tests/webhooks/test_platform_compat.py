"""Which answers the platform would retry though appinstall counts them delivered, and warning about each once."""

from __future__ import annotations

import pytest

from appinstall.webhooks.platform_compat import LenientSuccessWarnings, platform_would_retry


@pytest.mark.parametrize("status", [202, 203, 204, 206, 299])
def test_a_2xx_other_than_200_and_201_is_one_the_platform_would_retry(status: int) -> None:
    assert platform_would_retry(status)


@pytest.mark.parametrize("status", [200, 201, 301, 404, 500, None])
def test_200_201_and_failures_are_not_lenient_successes(status: int | None) -> None:
    assert not platform_would_retry(status)


def test_the_warning_names_the_installation_the_event_and_the_status() -> None:
    assert LenientSuccessWarnings().warning("inst-1", "cqm.ExConversationChangeNotification", 204) == (
        "installation inst-1: the cqm.ExConversationChangeNotification endpoint answered 204; the platform counts "
        "only 200 and 201 as delivered and would retry this"
    )


def test_the_same_installation_event_and_status_is_warned_about_once() -> None:
    warnings = LenientSuccessWarnings()
    assert warnings.warning("inst-1", "e", 204) is not None
    assert warnings.warning("inst-1", "e", 204) is None


@pytest.mark.parametrize(
    "other", [("inst-2", "e", 204), ("inst-1", "f", 204), ("inst-1", "e", 202)], ids=["installation", "event", "status"]
)
def test_another_installation_event_or_status_is_warned_about_again(other: tuple[str, str, int]) -> None:
    warnings = LenientSuccessWarnings()
    warnings.warning("inst-1", "e", 204)
    assert warnings.warning(*other) is not None


def test_a_200_brings_no_warning() -> None:
    assert LenientSuccessWarnings().warning("inst-1", "e", 200) is None
