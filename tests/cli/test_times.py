"""Reading a moment from the command line: a time ago, ms since the epoch, or RFC 3339."""

from __future__ import annotations

import pytest

from appinstall.cli.times import MomentError, parse_moment, utc_time

NOW = 1_764_000_000_000  # 2025-11-24 16:00:00 UTC


@pytest.mark.parametrize(
    ("text", "ago_ms"),
    [("30s", 30_000), ("10m", 600_000), ("2h", 7_200_000), ("1d", 86_400_000), ("0m", 0)],
)
def test_a_number_and_a_unit_is_that_long_before_now(text: str, ago_ms: int) -> None:
    assert parse_moment(text, NOW) == NOW - ago_ms


def test_milliseconds_since_the_epoch_are_taken_as_they_are() -> None:
    assert parse_moment("1700000000000", NOW) == 1_700_000_000_000


def test_an_rfc_3339_time_with_z_is_utc() -> None:
    assert parse_moment("2026-11-25T12:00:00Z", NOW) == 1_795_608_000_000


def test_an_rfc_3339_time_with_an_offset_is_converted() -> None:
    assert parse_moment("2026-11-25T13:00:00+01:00", NOW) == 1_795_608_000_000


def test_surrounding_spaces_are_ignored() -> None:
    assert parse_moment(" 10m ", NOW) == NOW - 600_000


@pytest.mark.parametrize("text", ["yesterday", "10x", "10 m", "10M", "1w", "-5m", "2026-11-25T12:00:00", "", "¹"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(MomentError):
        parse_moment(text, NOW)


def test_the_refusal_names_every_form_it_takes() -> None:
    with pytest.raises(MomentError) as refused:
        parse_moment("yesterday", NOW)
    message = str(refused.value)
    assert message.startswith("'yesterday' is not a time; use ")
    for form in ("10m", "2h", "1d", "30s", "ms since the epoch", "RFC 3339"):
        assert form in message


def test_utc_time_shows_a_moment_to_the_second_in_utc() -> None:
    assert utc_time(1_795_608_000_999) == "2026-11-25 12:00:00"
