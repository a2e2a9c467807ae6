"""Ingest, end to end: notifications in through the API one request at a time, webhooks out, beside baselines.

The workload of issue #17, as a user runs it: one account, one installation subscribed to ``ContentEvent`` at a
local receiver (``webhook_receiver.py``, its own process), ``appinstall serve --dev`` on SQLite. ``--count``
notifications, each in a conversation of its own, are published through ``POST /api/account/{id}/notifications``
by ``CLIENTS`` concurrent keep-alive clients, one notification per request. Rows (this first slice, SQLite):

* ``end to end``: from the first publish to the last arrival at the receiver, against the ceiling (this process
  posting the same bodies with aiohttp straight to the receiver, no store) measured just before and just after;
  the row keeps their mean, as ``webhooks.py`` does. Also p50/p99 publish→arrival.
* ``publish alone``: the same publishes with the worker off (one subscriber, so each makes a delivery), against
  ``GET /healthz`` of the same server by the same clients; with the server's CPU time per request.

Targets (issue #17, ratios in one run): end to end ≥ 25 % of the ceiling; publish alone ≥ 50 % of ``/healthz``.
Run ``python bench/ingest.py``; ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import uvloop
from registry_api import Server, running_server, server_environment
from rich.console import Console
from rich.table import Table
from webhooks import ACCOUNT, Receiver, ceiling, install_apps, notification, receiver_process, worker_environment

CLIENTS = 32
END_TO_END_TARGET = 0.25
PUBLISH_TARGET = 0.5


@dataclass
class Row:
    name: str
    count: int
    seconds: float
    baseline_name: str = ""
    baseline_rate: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_ms: float | None = None  # the server's CPU time per request

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def share(self) -> float | None:
        return self.rate / self.baseline_rate if self.baseline_rate else None


async def _by_clients(count: int, one: Callable[[aiohttp.ClientSession, int], Awaitable[None]], token: str) -> float:
    """Run ``one(session, index)`` for ``count`` indexes on ``CLIENTS`` keep-alive connections; seconds taken."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        queue = iter(range(count))

        async def client() -> None:
            for index in queue:
                await one(session, index)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        return time.perf_counter() - started


async def publish(server: Server, token: str, count: int, tag: str) -> tuple[float, dict[str, float]]:
    """Publish ``count`` notifications, each in its own conversation: seconds taken, delivery id → publish time."""
    published: dict[str, float] = {}
    url = f"{server.url}/api/account/{ACCOUNT}/notifications"

    async def one(session: aiohttp.ClientSession, index: int) -> None:
        body = json.dumps(notification(f"{tag}-{index}", f"message {index}"))
        sent = time.time()
        async with session.post(url, data=body) as response:
            assert response.status == 202, await response.text()
            for delivery in (await response.json())["deliveries"]:
                published[delivery["id"]] = sent

    seconds = await _by_clients(count, one, token)
    return seconds, published


async def health_checks(server: Server, token: str, count: int) -> float:
    async def one(session: aiohttp.ClientSession, _: int) -> None:
        async with session.get(f"{server.url}/healthz") as response:
            assert response.status == 200
            await response.read()

    return await _by_clients(count, one, token)


def arrived(receiver: Receiver, published: dict[str, float], name: str) -> dict[str, float]:
    deadline = time.monotonic() + 300
    while receiver.count() < len(published):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: only {receiver.count()} of {len(published)} arrived in 300 s")
        time.sleep(0.05)
    first: dict[str, float] = receiver.stats()["first"]
    return first


def end_to_end(directory: Path, receiver: Receiver, count: int) -> Row:
    token = f"aio_{secrets.token_urlsafe(16)}"
    environment = worker_environment(server_environment(directory / "end-to-end", token, None))
    with running_server(directory / "end-to-end.log", environment) as server:
        install_apps(server, token, receiver, 1)
        before = uvloop.run(ceiling(receiver, count))
        receiver.reset()
        _, published = uvloop.run(publish(server, token, count, "e2e"))
        arrivals = arrived(receiver, published, "end to end")
        after = uvloop.run(ceiling(receiver, count))
    seconds = max(arrivals[i] for i in published) - min(published.values())
    delays = sorted((arrivals[i] - sent) * 1000 for i, sent in published.items())
    quantiles = statistics.quantiles(delays, n=100)
    return Row(
        "SQLite end to end (publish → webhook)",
        len(published),
        seconds,
        "ceiling (aiohttp → receiver, no store)",
        (before.rate + after.rate) / 2,
        quantiles[49],
        quantiles[98],
    )


def publish_alone(directory: Path, receiver: Receiver, count: int) -> Row:
    token = f"aio_{secrets.token_urlsafe(16)}"
    environment = server_environment(directory / "publish", token, None) | {
        "APPINSTALL_DEV": "true",
        "APPINSTALL_WORKER": "false",
    }
    with running_server(directory / "publish.log", environment) as server:
        install_apps(server, token, receiver, 1)
        healthz = uvloop.run(health_checks(server, token, count))
        cpu_before = server.cpu_seconds()
        seconds, published = uvloop.run(publish(server, token, count, "alone"))
        cpu_after = server.cpu_seconds()
    cpu_ms = (cpu_after - cpu_before) * 1000 / count if cpu_before is not None and cpu_after is not None else None
    return Row(
        "SQLite publish alone (1 subscriber)",
        len(published),
        seconds,
        "GET /healthz, same server and clients",
        count / healthz,
        cpu_ms=cpu_ms,
    )


def report(rows: list[Row], console: Console) -> bool:
    table = Table(title=f"Ingest, {CLIENTS} concurrent clients, one notification per request")
    for column in ("row", "count", "per second", "baseline", "baseline /s", "share", "p50 ms", "p99 ms", "CPU ms/req"):
        table.add_column(column, justify="left" if column in ("row", "baseline") else "right")

    def number(value: float | None, pattern: str) -> str:
        return "" if value is None else format(value, pattern)

    for row in rows:
        share = "" if row.share is None else f"{row.share:.0%}"
        table.add_row(
            row.name,
            f"{row.count:,}",
            f"{row.rate:,.0f}",
            row.baseline_name,
            number(row.baseline_rate, ",.0f"),
            share,
            number(row.p50_ms, ".0f"),
            number(row.p99_ms, ".0f"),
            number(row.cpu_ms, ".2f"),
        )
    console.print(table)
    verdicts = [(rows[0], END_TO_END_TARGET), (rows[1], PUBLISH_TARGET)]
    passed = True
    for row, target in verdicts:
        met = row.share is not None and row.share >= target
        passed = passed and met
        verdict = "PASS" if met else "FAIL"
        console.print(f"{verdict}: {row.name} at {row.share or 0:.0%} of its baseline (target ≥ {target:.0%})")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=5_000, help="Notifications per row (one request each).")
    parser.add_argument("--check", action="store_true", help="Exit 1 when a target is missed.")
    arguments = parser.parse_args(argv)
    console = Console(width=150)
    with tempfile.TemporaryDirectory(prefix="appinstall-ingest-") as temporary, receiver_process() as receiver:
        directory = Path(temporary)
        rows = [end_to_end(directory, receiver, arguments.count), publish_alone(directory, receiver, arguments.count)]
    passed = report(rows, console)
    console.print(f"command: python bench/ingest.py --count {arguments.count}")
    return 1 if arguments.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
