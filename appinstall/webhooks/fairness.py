"""Which due deliveries a claim takes, so that one slow, hanging or failing installation uses only its own share.

Claiming in due-time order alone let one installation whose endpoint never answers fill a worker: its thousands of
due deliveries came first, were all claimed, and waited for their host while every other tenant's waited behind
them. Three rules, pure here and applied by ``claims`` and the worker:

* **A cap per installation**: no installation has more than ``claim_cap`` deliveries claimed at once, counted in
  the store, so on PostgreSQL across every worker process. The cap is three rounds of its host's limit: one being
  sent, one queued behind it so the host's runners never wait for a claim, one being recorded.
* **Rotation**: within a claim, installations take turns, one delivery each per round, the one whose oldest due
  delivery waited longest first; so a burst from one does not push the others to a later claim.
* **No slot for waiting**: a worker counts only what it is sending (or recording) against its concurrency, and
  claims nothing more for an installation while every host it is known to send to has a full round queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

# How many candidate rows a claim looks at for each delivery it may take: enough that a few installations at
# their cap in the window do not starve a claim, few enough that the look is cheap.
WINDOW_FACTOR: Final = 2


def claim_cap(per_host: int) -> int:
    """The most one installation may have claimed at once: a round being sent, a round queued behind it, and a
    round sent and being recorded (with two, a single installation with a fast receiver drained a backlog about a
    quarter slower: its runners waited for records to free claims)."""
    return 3 * per_host


def window(limit: int) -> int:
    """How many due deliveries (of installations below their cap) a claim of ``limit`` considers."""
    return limit * WINDOW_FACTOR


def at_cap(claimed: Mapping[str, int], cap: int) -> frozenset[str]:
    """The installations that may claim nothing more now."""
    return frozenset(installation for installation, count in claimed.items() if count >= cap)


def choose(candidates: Sequence[tuple[int, str]], claimed: Mapping[str, int], *, cap: int, limit: int) -> list[int]:
    """Which of ``candidates`` (seq, installation), in due order, to claim: at most ``limit``, taking one of each
    installation per round in the order of their first candidate, and none beyond an installation's ``cap``
    (``claimed`` holds what each already has). Within an installation the due order is kept."""
    queues: dict[str, list[int]] = {}
    for seq, installation in candidates:
        queues.setdefault(installation, []).append(seq)
    room = {installation: max(0, cap - claimed.get(installation, 0)) for installation in queues}
    chosen: list[int] = []
    depth = 0
    while len(chosen) < limit:
        taken = False
        for installation, seqs in queues.items():
            if depth < len(seqs) and depth < room[installation]:
                chosen.append(seqs[depth])
                taken = True
                if len(chosen) == limit:
                    break
        if not taken:
            break
        depth += 1
    return chosen


def after(claimed: Mapping[str, int], taken: Iterable[str]) -> dict[str, int]:
    """The claimed counts once the deliveries of ``taken`` (an installation per delivery) are claimed too."""
    counts = dict(claimed)
    for installation in taken:
        counts[installation] = counts.get(installation, 0) + 1
    return counts


def host_full(waiting: int, per_host: int) -> bool:
    """Whether a host has a full round queued behind its runners: claiming more for it would only make it wait."""
    return waiting >= per_host


def held_back(hosts_of: Mapping[str, set[str]], full_hosts: set[str]) -> frozenset[str]:
    """The installations to claim nothing for now: every host each is known to send to is full. (One with a host
    that has room is still claimed for; what it sends to a full host waits, within its cap.)"""
    if not full_hosts:
        return frozenset()
    return frozenset(installation for installation, hosts in hosts_of.items() if hosts and hosts <= full_hosts)


class KnownHosts:
    """The endpoint hosts each installation's deliveries went to, for ``held_back``; the oldest installations are
    forgotten beyond ``capacity`` (one forgotten is claimed for until its next delivery says where it goes)."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._hosts: dict[str, set[str]] = {}

    def add(self, installation: str, host: str) -> None:
        hosts = self._hosts.get(installation)
        if hosts is None:
            if len(self._hosts) >= self._capacity:
                del self._hosts[next(iter(self._hosts))]
            hosts = self._hosts[installation] = set()
        hosts.add(host)

    def held_back(self, full_hosts: set[str]) -> frozenset[str]:
        return held_back(self._hosts, full_hosts)


class LookPast:
    """When a worker should read past the due backlog of installations it cannot take (at their cap, or held back).

    That read walks their backlog in the index, so a worker that took it on every wake-up would spend its time
    re-reading one hanging installation's thousands of due deliveries. It looks when something may be due past
    them (a publish, a ``NOTIFY``, a timeout: ``wanted``), not sooner than ``spacing`` times the last look's
    cost after it (so at most a third of its time goes to looking), and not again after a look
    that found nothing until something says there may be more. Times are the event loop's, in seconds.
    """

    def __init__(self, spacing: float = 2.0) -> None:
        self.spacing = spacing
        self.wanted = True
        self.next_at = 0.0

    def want(self) -> None:
        self.wanted = True

    def may(self, now: float) -> bool:
        return self.wanted and now >= self.next_at

    def wait(self, now: float) -> float:
        """How long until a wanted look may be taken (0 when none is wanted, or it may be taken now)."""
        return max(0.0, self.next_at - now) if self.wanted else 0.0

    def looked(self, now: float, cost: float, *, found: bool) -> None:
        self.next_at = now + self.spacing * cost
        if not found:
            self.wanted = False


__all__ = [
    "WINDOW_FACTOR",
    "KnownHosts",
    "LookPast",
    "after",
    "at_cap",
    "choose",
    "claim_cap",
    "held_back",
    "host_full",
    "window",
]
