"""Which due deliveries a claim takes: installations in turn, none beyond its cap, none for a full host."""

from __future__ import annotations

from appinstall.webhooks import fairness


def test_installations_take_turns_one_delivery_each_per_round() -> None:
    candidates = [(1, "x"), (2, "x"), (3, "x"), (4, "y"), (5, "z"), (6, "y")]
    assert fairness.choose(candidates, {}, cap=10, limit=5) == [1, 4, 5, 2, 6]


def test_the_installation_whose_oldest_delivery_waited_longest_goes_first() -> None:
    candidates = [(7, "y"), (1, "x"), (8, "y"), (2, "x")]
    assert fairness.choose(candidates, {}, cap=10, limit=3) == [7, 1, 8]


def test_an_installation_gets_no_more_than_its_cap_minus_what_it_has_claimed() -> None:
    candidates = [(seq, "x") for seq in range(100)] + [(100, "y")]
    assert fairness.choose(candidates, {"x": 62}, cap=64, limit=50) == [0, 100, 1]


def test_an_installation_at_its_cap_gets_nothing_and_others_are_unaffected() -> None:
    candidates = [(1, "x"), (2, "y"), (3, "x")]
    assert fairness.choose(candidates, {"x": 64}, cap=64, limit=10) == [2]


def test_a_claim_never_takes_more_than_its_limit() -> None:
    candidates = [(seq, f"i{seq % 7}") for seq in range(500)]
    assert len(fairness.choose(candidates, {}, cap=64, limit=128)) == 128


def test_no_candidates_or_no_limit_chooses_nothing() -> None:
    assert fairness.choose([], {}, cap=64, limit=128) == []
    assert fairness.choose([(1, "x")], {}, cap=64, limit=0) == []


def test_the_cap_is_three_rounds_of_the_host_limit_sent_queued_and_being_recorded() -> None:
    assert fairness.claim_cap(32) == 96


def test_at_cap_lists_the_installations_with_their_cap_claimed_after_a_claim() -> None:
    counts = fairness.after({"x": 63, "y": 1}, ["x", "y", "z"])
    assert counts == {"x": 64, "y": 2, "z": 1}
    assert fairness.at_cap(counts, 64) == frozenset({"x"})


def test_a_host_is_full_once_a_round_of_its_limit_is_queued_behind_its_runners() -> None:
    assert not fairness.host_full(31, per_host=32)
    assert fairness.host_full(32, per_host=32)


def test_an_installation_is_held_back_only_when_every_host_it_sends_to_is_full() -> None:
    hosts_of = {"x": {"slow:443"}, "y": {"slow:443", "fast:443"}, "z": {"fast:443"}}
    assert fairness.held_back(hosts_of, {"slow:443"}) == frozenset({"x"})
    assert fairness.held_back(hosts_of, set()) == frozenset()


def test_a_worker_looks_past_the_backlog_it_cannot_take_at_first() -> None:
    assert fairness.LookPast().may(now=0.0)


def test_after_a_look_the_next_waits_twice_its_cost() -> None:
    look = fairness.LookPast()
    look.looked(now=10.5, cost=0.5, found=True)
    assert (look.may(now=11.0), look.wait(now=11.0)) == (False, 0.5)
    assert (look.may(now=11.5), look.wait(now=11.5)) == (True, 0.0)


def test_a_look_that_found_nothing_is_not_repeated_until_something_may_be_due() -> None:
    look = fairness.LookPast()
    look.looked(now=10.001, cost=0.001, found=False)
    assert (look.may(now=20.0), look.wait(now=10.0)) == (False, 0.0)
    look.want()
    assert look.may(now=20.0)


def test_known_hosts_forget_the_oldest_installation_beyond_their_capacity() -> None:
    known = fairness.KnownHosts(capacity=2)
    for installation in ("a", "b", "c"):
        known.add(installation, "slow:443")
    assert known.held_back({"slow:443"}) == frozenset({"b", "c"})
