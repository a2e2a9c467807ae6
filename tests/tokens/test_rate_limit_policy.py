"""The rate limit's admission, without I/O: room in every bucket, counting this process's attempts in flight."""

from __future__ import annotations

from appinstall.tokens.ratelimit import Attempt, Reservations, address_bucket, client_bucket


def test_a_client_bucket_is_per_address_and_needs_one() -> None:
    assert client_bucket("c1", "192.0.2.1") != client_bucket("c1", "192.0.2.2")
    assert client_bucket("c1", None) is None
    assert address_bucket(None) is None


def test_an_attempt_is_admitted_while_every_bucket_has_room() -> None:
    attempt = Attempt({"a": 3, "b": 5})
    with Reservations().holding(["a", "b"]) as ticket:
        assert attempt.admitted({"a": 2, "b": 4}, ticket)
        assert not attempt.admitted({"a": 3, "b": 0}, ticket)
        assert not attempt.admitted({"a": 0, "b": 5}, ticket)


def test_attempts_in_flight_take_room_before_they_fail() -> None:
    reservations = Reservations()
    attempt = Attempt({"a": 2})
    with reservations.holding(["a"]), reservations.holding(["a"]), reservations.holding(["a"]) as third:
        assert not attempt.admitted({}, third)


def test_a_failure_recorded_while_an_attempt_read_is_counted_even_once_its_place_is_given_back() -> None:
    reservations = Reservations()
    attempt = Attempt({"a": 2})
    with reservations.holding(["a"]) as reader:
        with reservations.holding(["a"]):
            reservations.recorded(["a"])  # committed, maybe after the reader's snapshot
        assert not attempt.admitted({"a": 1}, reader)  # counted twice at worst, never missed
        assert attempt.admitted({"a": 0}, reader)


def test_places_are_forgotten_once_no_attempt_holds_them() -> None:
    reservations = Reservations()
    with reservations.holding(["a", "b"]):
        reservations.recorded(["a"])
    assert len(reservations) == 0
    with reservations.holding(["a"]) as ticket:
        assert ticket.others("a") == 0
