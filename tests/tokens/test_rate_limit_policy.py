"""The rate limit's admission, without I/O: room in every bucket, counting this process's admitted attempts."""

from __future__ import annotations

import asyncio

import pytest

from appinstall.tokens.ratelimit import Attempt, Reservations, address_bucket, client_bucket


def test_a_client_bucket_is_per_address_and_needs_one() -> None:
    assert client_bucket("c1", "192.0.2.1") != client_bucket("c1", "192.0.2.2")
    assert client_bucket("c1", None) is None
    assert address_bucket(None) is None


def test_an_attempt_is_admitted_while_every_bucket_has_room() -> None:
    attempt = Attempt({"a": 3, "b": 5})
    reservations = Reservations()
    with reservations.looking(["a", "b"]) as ticket:
        assert not attempt.admit({"a": 3, "b": 0}, ticket)
        assert not attempt.admit({"a": 0, "b": 5}, ticket)
        assert attempt.admit({"a": 2, "b": 4}, ticket)


def test_admitted_attempts_take_room_before_they_fail() -> None:
    reservations = Reservations()
    attempt = Attempt({"a": 2})
    with reservations.looking(["a"]) as first, reservations.looking(["a"]) as second:
        assert attempt.admit({}, first) and attempt.admit({}, second)
        with reservations.looking(["a"]) as third:
            assert not attempt.admit({}, third)
            assert attempt.within({})  # the store has room: the third may wait for the others to end


def test_attempts_still_reading_take_no_room() -> None:
    """Else simultaneous attempts would each see the others and none would get in."""
    reservations = Reservations()
    attempt = Attempt({"a": 1})
    with reservations.looking(["a"]), reservations.looking(["a"]) as ticket:
        assert attempt.admit({}, ticket)


def test_a_failure_stored_while_an_attempt_looked_is_counted_even_once_its_place_is_given_back() -> None:
    reservations = Reservations()
    attempt = Attempt({"a": 2})
    with reservations.looking(["a"]) as reader:
        with reservations.looking(["a"]) as failing:
            attempt.admit({}, failing)
            reservations.recorded(["a"])  # committed, maybe after the reader's read began
        assert not attempt.admit({"a": 1}, reader)  # counted twice at worst, never missed
        assert attempt.admit({"a": 0}, reader)


def test_everything_is_forgotten_once_no_attempt_looks() -> None:
    reservations = Reservations()
    with reservations.looking(["a", "b"]) as ticket:
        ticket.admit()
        reservations.recorded(["a"])
    assert len(reservations) == 0
    with reservations.looking(["a"]) as ticket:
        assert ticket.others("a") == 0


@pytest.mark.anyio
async def test_a_waiting_attempt_wakes_when_an_admitted_one_ends() -> None:
    reservations = Reservations()
    ended = asyncio.Event()

    async def admitted_then_ends() -> None:
        with reservations.looking(["a"]) as ticket:
            ticket.admit()
            await ended.wait()

    task = asyncio.create_task(admitted_then_ends())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(reservations.released(["a"], timeout=5))
    await asyncio.sleep(0)
    assert not waiting.done()
    ended.set()
    await asyncio.wait_for(waiting, 1)
    await task


@pytest.mark.anyio
async def test_waiting_ends_at_its_timeout() -> None:
    reservations = Reservations()
    with reservations.looking(["a"]) as ticket:
        ticket.admit()
        await asyncio.wait_for(reservations.released(["a"], timeout=0.01), 1)
