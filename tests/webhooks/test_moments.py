"""Reading a delivery query's time: milliseconds up to 9999-12-31, or RFC 3339 (zoneless only where allowed)."""

from __future__ import annotations

import pytest

from appinstall.webhooks.moments import LATEST_MOMENT_MS, NotATimeError, PastLatestError, moment_ms


def test_milliseconds_are_read_as_they_are() -> None:
    assert moment_ms("0") == 0
    assert moment_ms(str(LATEST_MOMENT_MS)) == LATEST_MOMENT_MS


def test_milliseconds_past_9999_are_refused() -> None:
    with pytest.raises(PastLatestError):
        moment_ms(str(LATEST_MOMENT_MS + 1))
    with pytest.raises(PastLatestError):
        moment_ms("9" * 40)


def test_an_rfc_3339_time_is_read_with_its_zone() -> None:
    assert moment_ms("1970-01-01T00:00:01Z") == 1000
    assert moment_ms("1970-01-01T01:00:01+01:00") == 1000


def test_a_time_without_a_zone_is_refused_unless_read_as_utc() -> None:
    with pytest.raises(NotATimeError):
        moment_ms("1970-01-01T00:00:01")
    assert moment_ms("1970-01-01T00:00:01", zoneless_as_utc=True) == 1000


def test_text_that_is_no_time_is_refused() -> None:
    for text in ("yesterday", "", "¹", "-5"):
        with pytest.raises(NotATimeError):
            moment_ms(text)
