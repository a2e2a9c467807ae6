"""The Send API row of ``ingest.py``: consumer messages through the platform's paths, their notifications delivered.

A connector's load test against the sandbox does what a consumer-side client does on the platform: an AppJWT by
client credentials (the Sentinel path), a ConsumerJWS per consumer (the IDP path), conversations opened, then
messages, each ``ms.PublishEvent`` request carrying both tokens (``Authorization`` and ``X-LP-ON-BEHALF``), which
the client keeps and reuses as a real one does. Here: one account, one installation subscribed to ``ContentEvent``
at the receiver, ``count // MESSAGES_PER_CONVERSATION`` consumers with a conversation each, opened before the clock
starts; then ``count`` messages, round robin over the conversations, one per request by ``CLIENTS`` keep-alive
clients, from the first send until every notification has arrived at the receiver (each message makes one).

Every consumer sends ``MESSAGES_PER_CONVERSATION`` messages, fewer than the sandbox's per-consumer burst (30), so
the sandbox's rate limit, which is the platform's behaviour and not a cost, refuses none. The baseline is
``GET /healthz`` of the same server by the same clients.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from registry_api import SEED, Server, running_server, server_environment
from webhooks import ACCOUNT, BASE, CONTENT, Receiver, operator_client, receiver_process, worker_environment

CLIENTS = 32
MESSAGES_PER_CONVERSATION = 5
CONVERSATION = f"/api/account/{ACCOUNT}/messaging/consumer/conversation"


@dataclass
class SendApiRun:
    """What one run measured: messages sent, seconds from the first send to the last arrival, the baseline."""

    messages: int
    conversations: int
    seconds: float
    healthz_rate: float
    cpu_ms: float | None  # the server's CPU per message, sends and deliveries together


def install_connector(server: Server, token: str, receiver: Receiver) -> tuple[str, str]:
    """The connector's installation, subscribed to ``ContentEvent`` at the receiver: its client id and secret."""
    with operator_client(server, token) as client:
        client.post("/api/accounts", json={"id": ACCOUNT})
        manifest = json.loads(SEED.read_text())
        manifest["client_name"] = f"bench-send-{uuid.uuid4().hex[:8]}"
        manifest["capabilities"]["webhooks"] = {CONTENT: {"endpoint": f"{receiver.url}/hook", "max_retries": 3}}
        response = client.post(BASE, json=manifest)
        response.raise_for_status()
        installed = response.json()
        return installed["client_id"], installed["client_secret"]


async def by_clients(
    count: int, one: Callable[[aiohttp.ClientSession, int], Awaitable[None]], headers: dict[str, str] | None = None
) -> float:
    """``one(session, index)`` for ``count`` indexes on ``CLIENTS`` keep-alive connections (each request with
    ``headers``); seconds taken. The load generator of every row of ``ingest.py``, this one's included."""
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        queue = iter(range(count))

        async def client() -> None:
            for index in queue:
                await one(session, index)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        return time.perf_counter() - started


async def _expect(response: aiohttp.ClientResponse, status: int) -> Any:
    if response.status != status:
        raise RuntimeError(f"{response.method} {response.url}: {response.status} {await response.text()}")
    return await response.json()


async def app_jwt(server: Server, client_id: str, client_secret: str) -> str:
    url = f"{server.url}/sentinel/api/account/{ACCOUNT}/app/token?v=1.0&grant_type=client_credentials"
    async with aiohttp.ClientSession() as session:
        form = {"client_id": client_id, "client_secret": client_secret}
        async with session.post(url, data=form) as response:
            token: str = (await _expect(response, 200))["access_token"]
            return token


async def open_conversations(server: Server, jwt: str, count: int) -> list[tuple[str, str]]:
    """``count`` consumers, each with its ConsumerJWS and one open conversation: (ConsumerJWS, conversation id)."""
    opened: list[tuple[str, str] | None] = [None] * count

    async def one(session: aiohttp.ClientSession, index: int) -> None:
        consumer_url = f"{server.url}/api/account/{ACCOUNT}/consumer?v=1.0"
        body = {"ext_consumer_id": f"bench-consumer-{index}"}
        async with session.post(consumer_url, json=body, headers={"Authorization": jwt}) as response:
            jws: str = (await _expect(response, 201))["token"]
        headers = {"Authorization": jwt, "X-LP-ON-BEHALF": jws}
        async with session.post(f"{server.url}{CONVERSATION}?v=3", json=_open(), headers=headers) as response:
            answers = await _expect(response, 200)
        opened[index] = (jws, answers[1]["body"]["conversationId"])

    await by_clients(count, one)
    return [pair for pair in opened if pair is not None]


def _open() -> list[dict[str, Any]]:
    return [
        {"kind": "req", "id": "1,", "type": "userprofile.SetUserProfile", "body": {}},
        {
            "kind": "req",
            "id": "2,",
            "type": "cm.ConsumerRequestConversation",
            "body": {"ttrDefName": "NORMAL", "channelType": "MESSAGING", "brandId": ACCOUNT, "skillId": "-1"},
        },
    ]


async def send_messages(server: Server, jwt: str, conversations: list[tuple[str, str]], count: int) -> float:
    """``count`` consumer messages, round robin over the conversations, one per request; when the first was sent."""
    url = f"{server.url}{CONVERSATION}/send?v=3"
    started = time.time()

    async def one(session: aiohttp.ClientSession, index: int) -> None:
        jws, conversation_id = conversations[index % len(conversations)]
        event = {"type": "ContentEvent", "message": f"message {index}", "contentType": "text/plain"}
        request = {"dialogId": conversation_id, "event": event}
        body = {"kind": "req", "id": str(index), "type": "ms.PublishEvent", "body": request}
        headers = {"Authorization": jwt, "X-LP-ON-BEHALF": jws, "Content-Type": "application/json"}
        async with session.post(url, data=json.dumps(body), headers=headers) as response:
            answer = await _expect(response, 200)
            assert answer["code"] == "OK", answer

    await by_clients(count, one)
    return started


async def health_checks(server: Server, count: int) -> float:
    async def one(session: aiohttp.ClientSession, _: int) -> None:
        async with session.get(f"{server.url}/healthz") as response:
            await _expect(response, 200)

    return await by_clients(count, one)


def last_arrival(receiver: Receiver, expected: int) -> float:
    """When the last of ``expected`` notifications arrived (the receiver's clock: this machine's)."""
    deadline = time.monotonic() + 300
    while receiver.count() < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"Send API: only {receiver.count()} of {expected} notifications arrived in 300 s")
        time.sleep(0.05)
    stats = receiver.stats()
    if stats["count"] != expected:
        raise RuntimeError(f"Send API: {stats['count']} notifications arrived for {expected} messages")
    return max(stats["first"].values())  # type: ignore[no-any-return]


def measure(directory: Path, receiver: Receiver, count: int, profile: Path | None = None) -> SendApiRun:
    """One ``serve --dev`` on SQLite with its worker: the conversations opened, ``/healthz``, then the messages
    (with ``profile``, under py-spy, whose raw samples of the server's threads go there)."""
    token = f"aio_{secrets.token_urlsafe(16)}"
    environment = worker_environment(server_environment(directory / "send-api", token, None))
    with running_server(directory / "send-api.log", environment) as server:
        client_id, client_secret = install_connector(server, token, receiver)
        jwt = uvloop.run(app_jwt(server, client_id, client_secret))
        conversations = uvloop.run(open_conversations(server, jwt, max(1, count // MESSAGES_PER_CONVERSATION)))
        healthz = uvloop.run(health_checks(server, count))
        receiver.reset()
        with py_spy(server, profile):
            cpu_before = server.cpu_seconds()
            started = uvloop.run(send_messages(server, jwt, conversations, count))
            finished = last_arrival(receiver, count)
            cpu_after = server.cpu_seconds()
    cpu_ms = (cpu_after - cpu_before) * 1000 / count if cpu_before is not None and cpu_after is not None else None
    return SendApiRun(count, len(conversations), finished - started, count / healthz, cpu_ms)


@contextlib.contextmanager
def py_spy(server: Server, output: Path | None) -> Iterator[None]:
    """Sample the server with py-spy (``pip install py-spy``) while the block runs, if ``output`` is given."""
    if output is None:
        yield
        return
    command = ["py-spy", "record", "--threads", "--format", "raw", "--rate", "200", "--nonblocking"]
    spy = subprocess.Popen([*command, "--pid", str(server.process.pid), "-o", str(output)])
    time.sleep(1)  # py-spy attaches
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait()


def main() -> None:
    """This row alone (``python bench/send_api.py --count N``), for profiling; ``ingest.py`` runs it with the rest."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=5_000, help="Consumer messages (one request each).")
    parser.add_argument("--py-spy", type=Path, help="Profile the server while the messages go: py-spy's raw output.")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="appinstall-send-api-") as temporary, receiver_process() as receiver:
        run = measure(Path(temporary), receiver, arguments.count, arguments.py_spy)
    print(
        f"{run.messages} messages in {run.conversations} conversations: {run.messages / run.seconds:,.0f}/s "
        f"(/healthz {run.healthz_rate:,.0f}/s), server CPU {run.cpu_ms or 0:.2f} ms per message"
    )


if __name__ == "__main__":
    main()
