"""Publishing under load while the API process is killed, and what must hold of what arrives afterwards.

``CLIENTS`` concurrent keep-alive clients each publish, one request after another, notifications with a unique
text into two conversations of their own. Each client owns its conversations, so its requests (each sent after the
previous one's answer) are the conversation's order. When ``KILL_AFTER`` notifications have been acknowledged the
server process is sent SIGKILL with the other clients' requests in flight; every client then stops at its first
request without an answer. Each publish is recorded: the deliveries its 202 named, or no answer.

What must hold once the restarted platform has settled:

* a notification that got a 202 is delivered to every webhook, by the delivery id its answer gave;
* one whose answer was lost is delivered at most once per webhook (one ``webhook-id``, which may repeat: a retry of
  the same delivery), and to every webhook or none (it was committed in one transaction, or not at all);
* nothing arrives that was not published, and a ``webhook-id`` always comes with the same body;
* per webhook and conversation, the first arrivals keep the order the notifications were published in.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from tests.faults.receiving import ADMIN, deliveries_of, wait_for
from tests.webhooks.flow import message
from tests.webhooks.receiver import Receiver

CLIENTS = 16
KILL_AFTER = 200  # acknowledged publishes before the kill
PER_CLIENT = 120  # a bound: the kill comes long before (16 * 120 is far beyond KILL_AFTER)
PUBLISH_SECONDS = 30.0  # a bound on the whole publishing phase


@dataclass
class Publish:
    """One request: its notification, and what its answer said (``None``: no answer, the server died)."""

    conversation: str
    text: str
    deliveries: dict[str, str] | None = None  # installation id → delivery id, from the 202


@dataclass
class Load:
    """Every publish, in the order each client sent them, and how many requests were in flight at the kill."""

    publishes: list[Publish]
    in_flight_at_kill: int

    @property
    def acknowledged(self) -> list[Publish]:
        return [publish for publish in self.publishes if publish.deliveries is not None]

    @property
    def unanswered(self) -> list[Publish]:
        return [publish for publish in self.publishes if publish.deliveries is None]


async def _publish_until_killed(api: str, account: str, kill: Callable[[], None]) -> Load:
    run = uuid.uuid4().hex[:6]
    publishes: list[Publish] = []
    state = {"acknowledged": 0, "in_flight": 0, "in_flight_at_kill": -1}
    deadline = time.monotonic() + PUBLISH_SECONDS
    timeout = aiohttp.ClientTimeout(total=PUBLISH_SECONDS)
    connector = aiohttp.TCPConnector(limit=CLIENTS)

    async def client(number: int, session: aiohttp.ClientSession) -> None:
        for index in range(PER_CLIENT):
            if time.monotonic() > deadline:
                return
            publish = Publish(f"conv-{number}-{index % 2}", f"{run}:{number}:{index}")
            publishes.append(publish)
            document = message(publish.conversation, publish.text)
            state["in_flight"] += 1
            try:
                async with session.post(f"{api}/api/account/{account}/notifications", json=document) as response:
                    body = await response.text()
                    assert response.status == 202, f"{response.status}: {body}"
                    answer = json.loads(body)
            except (aiohttp.ClientError, TimeoutError):
                return  # no answer: the server is gone (or going); this client stops here
            finally:
                state["in_flight"] -= 1
            publish.deliveries = {item["installation_id"]: item["id"] for item in answer["deliveries"]}
            state["acknowledged"] += 1
            if state["acknowledged"] == KILL_AFTER:
                state["in_flight_at_kill"] = state["in_flight"]
                kill()

    async with aiohttp.ClientSession(headers=ADMIN, connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(number, session) for number in range(CLIENTS)))
    assert state["in_flight_at_kill"] >= 0, f"only {state['acknowledged']} publishes acknowledged before the bound"
    return Load(publishes, state["in_flight_at_kill"])


def publish_until_killed(api: str, account: str, kill: Callable[[], None]) -> Load:
    """Publish from ``CLIENTS`` clients into ``account`` until the server dies; ``kill`` kills it (once)."""
    return asyncio.run(_publish_until_killed(api, account, kill))


def wait_until_settled(api: str, account: str, installations: list[str]) -> None:
    """Until no delivery of ``installations`` is left to send: each has been answered by the receiver (or given up),
    so what arrived is all that will."""

    def settled() -> bool:
        items = [item for installation in installations for item in deliveries_of(api, account, installation)]
        return all(item["status"] in ("succeeded", "failed") for item in items)

    wait_for(settled, 45, "every delivery to settle", every=0.2)


@dataclass(frozen=True)
class Arrival:
    path: str
    webhook_id: str
    conversation: str
    text: str
    body: bytes


def arrivals(receiver: Receiver) -> list[Arrival]:
    """What reached the receiver, in order (repeats included)."""
    found = []
    for request in list(receiver.received):
        change = json.loads(request.body)["body"]["changes"][0]
        webhook_id, text = request.headers["webhook-id"], change["event"]["message"]
        found.append(Arrival(request.path, webhook_id, change["conversationId"], text, request.body))
    return found


def assert_publishes_survived(receiver: Receiver, load: Load, paths: dict[str, str]) -> None:
    """What must hold of a publishing load cut by a kill (see the module's docstring). ``paths``: installation id →
    the receiver path its webhook posts to."""
    arrived = arrivals(receiver)
    published = {publish.text: publish for publish in load.publishes}
    assert {arrival.text for arrival in arrived} <= published.keys(), "something arrived that was never published"
    carried: dict[str, set[tuple[str, bytes]]] = defaultdict(set)  # webhook-id → (path, body) it came with
    ids: dict[tuple[str, str], set[str]] = defaultdict(set)  # (path, text) → the webhook-ids it arrived with
    for arrival in arrived:
        carried[arrival.webhook_id].add((arrival.path, arrival.body))
        ids[arrival.path, arrival.text].add(arrival.webhook_id)
    assert all(len(what) == 1 for what in carried.values()), "a webhook-id came twice with different bodies or paths"
    for publish in load.acknowledged:
        assert (publish.deliveries or {}).keys() == paths.keys(), f"acknowledged {publish.text} without every webhook"
        for installation, delivery in (publish.deliveries or {}).items():
            got = ids[paths[installation], publish.text]
            where = paths[installation]
            assert got == {delivery}, f"{publish.text} got a 202 naming {delivery}; arrived at {where} as {got}"
    for publish in load.unanswered:
        counts = {len(ids[path, publish.text]) for path in paths.values()}
        assert counts in ({0}, {1}), f"unanswered {publish.text} arrived with {counts} distinct webhook-ids"
    _assert_order_kept(arrived, load)


def _assert_order_kept(arrived: list[Arrival], load: Load) -> None:
    first: dict[tuple[str, str], list[str]] = defaultdict(list)  # (path, conversation) → texts as they first came
    seen: set[str] = set()
    for arrival in arrived:
        if arrival.webhook_id not in seen:
            seen.add(arrival.webhook_id)
            first[arrival.path, arrival.conversation].append(arrival.text)
    sent: dict[str, list[str]] = defaultdict(list)
    for publish in load.publishes:
        sent[publish.conversation].append(publish.text)
    for (path, conversation), texts in first.items():
        assert texts == [text for text in sent[conversation] if text in texts], f"{conversation} at {path}"


__all__ = ["CLIENTS", "KILL_AFTER", "Load", "assert_publishes_survived", "publish_until_killed", "wait_until_settled"]
