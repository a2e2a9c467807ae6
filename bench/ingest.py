"""Ingest, end to end: notifications in through the API one request at a time, webhooks out, beside baselines.

The workload of issue #17, as a user runs it: one account, one installation subscribed to ``ContentEvent`` at a
local receiver (``webhook_receiver.py``, its own process), ``appinstall serve --dev``. ``--count`` notifications,
each in a conversation of its own, are published through ``POST /api/account/{id}/notifications`` by ``CLIENTS``
concurrent keep-alive clients, one notification per request. Rows:

* ``SQLite end to end``: from the first publish to the last arrival at the receiver, against the ceiling (this
  process posting the same bodies with aiohttp straight to the receiver, no store) measured just before and just
  after; the row keeps their mean, as ``webhooks.py`` does. Also p50/p99 publish→arrival, the server's memory, and
  how busy the machine's cores were meanwhile (every process: clients, receiver, database), as for every end-to-end
  row: a row at ~100 % was limited by the cores, not by the platform's processes.
* ``latency at half that rate``: publishes at half the end-to-end rate for about five seconds; p50/p99.
* ``SQLite publish alone``: the same publishes with the worker off (one subscriber, so each makes a delivery),
  against ``GET /healthz`` of the same server by the same clients; with the server's CPU time per request.
* ``SQLite batch publish``: on that same server, just after, notifications in batches of ``BATCH`` through
  ``POST /api/account/{id}/notifications:batch``, each in its own conversation, sent by one client one batch after
  another (as ``appinstall publish`` sends a file), at least ``BATCH_ROUNDS`` batches, their bodies written before
  the clock starts; notifications per second against the single publishes of the row above, with the server's CPU
  time per notification.
* ``SQLite Send API (consumer messages)`` (``send_api.py``): a connector's load test against the sandbox. An AppJWT,
  ``--count / 5`` consumers each with a ConsumerJWS and a conversation opened before the clock starts, then
  ``--count`` consumer messages (``ms.PublishEvent``, both tokens on every request, as a client keeps them), one per
  request, round robin over the conversations; from the first send until every notification (one per message) has
  arrived. Beside ``GET /healthz`` of the same server by the same clients; with the server's CPU per message
  (sending and delivering).
* ``PostgreSQL end to end``: 1 API process (``serve`` without its worker) + 1 ``appinstall worker``, then 2 + 2,
  the clients taking turns between the API processes; and the latency at half the 1 + 1 rate.

Targets (issue #17, ratios in one run): SQLite end to end ≥ 25 % of the ceiling; publish alone ≥ 50 % of
``/healthz``; batch publish ≥ 10 times the single publishes in notifications per second; p99 at half load < 50 ms;
Send API ≥ 1,000 consumer messages/s, every notification delivered; PostgreSQL 2 + 2 at least 1.5 times 1 + 1. Run
``python bench/ingest.py``; ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import send_api
import uvloop
from registry_api import POSTGRES_ADMIN_URL, Server, postgres_database, running_server, server_environment
from rich.console import Console
from rich.table import Table
from webhooks import (
    ACCOUNT,
    Receiver,
    ceiling,
    install_apps,
    notification,
    receiver_process,
    rss_mb,
    worker_environment,
    worker_processes,
)

CLIENTS = send_api.CLIENTS  # the load generator is send_api.by_clients
END_TO_END_TARGET = 0.25
PUBLISH_TARGET = 0.5
BATCH_TARGET = 10.0
BATCH = 1000  # the most one request takes: a backlog is sent in as few requests as it can be
BATCH_ROUNDS = 20  # at least this many batches, so that one slow commit does not decide the row
LATENCY_TARGET_MS = 50.0
SCALE_TARGET = 1.5
SEND_API_TARGET = 1_000.0  # consumer messages per second, every notification delivered


@dataclass
class Row:
    name: str
    count: int
    seconds: float
    baseline_name: str = ""
    baseline_rate: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_ms: float | None = None  # the server's CPU time per notification (per request but in the batch row)
    memory: tuple[float, float] | None = None  # the server's resident MB before and after
    machine_busy: float | None = None  # the share of all the machine's cores busy while the row ran (end to end)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def share(self) -> float | None:
        return self.rate / self.baseline_rate if self.baseline_rate else None


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def publish(
    servers: list[Server], token: str, count: int, tag: str, *, rate: float | None = None
) -> tuple[float, dict[str, float]]:
    """Publish ``count`` notifications, each in its own conversation, spread over ``servers`` (the clients take
    turns), as fast as the clients go or at ``rate`` per second: seconds taken, delivery id → publish time."""
    published: dict[str, float] = {}
    started = time.perf_counter()

    async def one(session: aiohttp.ClientSession, index: int) -> None:
        if rate is not None:
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        url = f"{servers[index % len(servers)].url}/api/account/{ACCOUNT}/notifications"
        body = json.dumps(notification(f"{tag}-{index}", f"message {index}"))
        sent = time.time()
        async with session.post(url, data=body) as response:
            assert response.status == 202, await response.text()
            for delivery in (await response.json())["deliveries"]:
                published[delivery["id"]] = sent

    seconds = await send_api.by_clients(count, one, _headers(token))
    return seconds, published


async def health_checks(server: Server, token: str, count: int) -> float:
    async def one(session: aiohttp.ClientSession, _: int) -> None:
        async with session.get(f"{server.url}/healthz") as response:
            assert response.status == 200
            await response.read()

    return await send_api.by_clients(count, one, _headers(token))


def arrived(receiver: Receiver, published: dict[str, float], name: str) -> dict[str, float]:
    deadline = time.monotonic() + 300
    while receiver.count() < len(published):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: only {receiver.count()} of {len(published)} arrived in 300 s")
        time.sleep(0.05)
    first: dict[str, float] = receiver.stats()["first"]
    return first


def delays_ms(published: dict[str, float], arrivals: dict[str, float]) -> tuple[float, float]:
    quantiles = statistics.quantiles(sorted((arrivals[i] - sent) * 1000 for i, sent in published.items()), n=100)
    return quantiles[49], quantiles[98]


def measure_end_to_end(name: str, servers: list[Server], token: str, receiver: Receiver, count: int) -> Row:
    """The ceiling, the publishes (as fast as the clients go) until the last arrival, the ceiling again."""
    before = uvloop.run(ceiling(receiver, count))
    receiver.reset()
    busy = MachineBusy()
    _, published = uvloop.run(publish(servers, token, count, secrets.token_hex(4)))
    arrivals = arrived(receiver, published, name)
    machine_busy = busy.share()
    after = uvloop.run(ceiling(receiver, count))
    seconds = max(arrivals[i] for i in published) - min(published.values())
    p50, p99 = delays_ms(published, arrivals)
    return Row(
        name,
        len(published),
        seconds,
        "ceiling (aiohttp → receiver, no store)",
        (before.rate + after.rate) / 2,
        p50,
        p99,
        machine_busy=machine_busy,
    )


class MachineBusy:
    """How busy the machine's cores were since this was made (``/proc/stat``: every process, the database's too),
    to tell a row limited by the cores from one limited by something else; None where ``/proc`` is absent."""

    def __init__(self) -> None:
        self._start = self._read()

    @staticmethod
    def _read() -> tuple[int, int] | None:
        try:
            fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and waiting for I/O
        return sum(fields), idle

    def share(self) -> float | None:
        end = self._read()
        if self._start is None or end is None or end[0] == self._start[0]:
            return None
        total, idle = end[0] - self._start[0], end[1] - self._start[1]
        return 1 - idle / total


def measure_latency(name: str, servers: list[Server], token: str, receiver: Receiver, rate: float) -> Row:
    """Publishes at ``rate`` per second (half the end-to-end maximum) for about five seconds: p50/p99."""
    count = max(50, int(rate * 5))
    receiver.reset()
    seconds, published = uvloop.run(publish(servers, token, count, secrets.token_hex(4), rate=rate))
    p50, p99 = delays_ms(published, arrived(receiver, published, name))
    return Row(name, len(published), seconds, "", None, p50, p99)


def sqlite_end_to_end(directory: Path, receiver: Receiver, count: int) -> list[Row]:
    token = f"aio_{secrets.token_urlsafe(16)}"
    environment = worker_environment(server_environment(directory / "end-to-end", token, None))
    with running_server(directory / "end-to-end.log", environment) as server:
        install_apps(server, token, receiver, 1)
        memory_before = rss_mb(server.process.pid)
        row = measure_end_to_end("SQLite end to end (publish → webhook)", [server], token, receiver, count)
        row.memory = (memory_before, rss_mb(server.process.pid))
        half = measure_latency("SQLite latency at half that rate", [server], token, receiver, row.rate / 2)
    return [row, half]


def postgres_end_to_end(directory: Path, receiver: Receiver, count: int, database_url: str) -> list[Row]:
    """1 API process + 1 worker, then 2 + 2, on one database; the clients take turns between the API processes."""
    token = f"aio_{secrets.token_urlsafe(16)}"
    environment = worker_environment(server_environment(directory / "pg", token, database_url))
    api_only = environment | {"APPINSTALL_WORKER": "false"}
    rows = []
    for processes in (1, 2):
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(running_server(directory / f"pg-api-{processes}-{index}.log", api_only))
                for index in range(processes)
            ]
            if processes == 1:
                install_apps(servers[0], token, receiver, 1)
            stack.enter_context(worker_processes(processes, environment, directory))
            name = f"PostgreSQL end to end ({processes} API + {processes} worker{'s' if processes > 1 else ''})"
            rows.append(measure_end_to_end(name, servers, token, receiver, count))
            if processes == 1:
                half = rows[-1].rate / 2
                rows.append(measure_latency("PostgreSQL latency at half that rate", servers, token, receiver, half))
    return rows


async def publish_batches(server: Server, token: str, count: int, tag: str) -> tuple[float, int]:
    """Publish ``count`` notifications, each in its own conversation, ``BATCH`` to a request, one request after
    another: seconds taken, deliveries made. The bodies are written before the clock starts, as a backlog waits
    to be sent: writing them is the client's work, on the client's machine, not the platform's (it was a sixth of
    this row's time, between requests, while the server waited)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"{server.url}/api/account/{ACCOUNT}/notifications:batch"
    bodies = [
        json.dumps(
            [notification(f"{tag}-{index}", f"message {index}") for index in range(start, min(start + BATCH, count))]
        )
        for start in range(0, count, BATCH)
    ]
    made = 0
    async with aiohttp.ClientSession(headers=headers) as session:
        started = time.perf_counter()
        for start, body in zip(range(0, count, BATCH), bodies, strict=True):
            async with session.post(url, data=body) as response:
                assert response.status == 202, await response.text()
                answered = (await response.json())["notifications"]
            assert len(answered) == min(BATCH, count - start)
            made += sum(len(one["deliveries"]) for one in answered)
        return time.perf_counter() - started, made


def _cpu_ms(before: float | None, after: float | None, count: int) -> float | None:
    return (after - before) * 1000 / count if before is not None and after is not None else None


def publish_alone(directory: Path, receiver: Receiver, count: int) -> list[Row]:
    """Single publishes against /healthz, then batch publishes against those single publishes, on one server."""
    token = f"aio_{secrets.token_urlsafe(16)}"
    environment = server_environment(directory / "publish", token, None) | {
        "APPINSTALL_DEV": "true",
        "APPINSTALL_WORKER": "false",
    }
    batched = max(count, BATCH * BATCH_ROUNDS)
    with running_server(directory / "publish.log", environment) as server:
        install_apps(server, token, receiver, 1)
        healthz = uvloop.run(health_checks(server, token, count))
        cpu_before = server.cpu_seconds()
        seconds, published = uvloop.run(publish([server], token, count, "alone"))
        cpu_after = server.cpu_seconds()
        batch_seconds, made = uvloop.run(publish_batches(server, token, batched, "batch"))
        cpu_batch = server.cpu_seconds()
    assert made == batched, f"{made} deliveries for {batched} notifications to one subscriber"
    alone = Row(
        "SQLite publish alone (1 subscriber)",
        len(published),
        seconds,
        "GET /healthz, same server and clients",
        count / healthz,
        cpu_ms=_cpu_ms(cpu_before, cpu_after, count),
    )
    batch = Row(
        f"SQLite batch publish ({BATCH} a request, 1 client, 1 subscriber)",
        batched,
        batch_seconds,
        "single publishes (the row above)",
        alone.rate,
        cpu_ms=_cpu_ms(cpu_after, cpu_batch, batched),
    )
    return [alone, batch]


def send_api_row(directory: Path, receiver: Receiver, count: int) -> Row:
    """Consumer messages through the Send API until their notifications arrived (``send_api.py``)."""
    run = send_api.measure(directory, receiver, count)
    return Row(
        "SQLite Send API (consumer messages)",
        run.messages,
        run.seconds,
        "GET /healthz, same server and clients",
        run.healthz_rate,
        cpu_ms=run.cpu_ms,
    )


def report(rows: list[Row], console: Console) -> bool:
    table = Table(title=f"Ingest, {CLIENTS} concurrent clients, one notification per request (but the batch row)")
    columns = (
        "row",
        "count",
        "per second",
        "baseline",
        "baseline /s",
        "share",
        "p50 ms",
        "p99 ms",
        "CPU ms/notif.",
        "cores busy",
        "RSS MB",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("row", "baseline") else "right")

    def number(value: float | None, pattern: str) -> str:
        return "" if value is None else format(value, pattern)

    for row in rows:
        table.add_row(
            row.name,
            f"{row.count:,}",
            f"{row.rate:,.0f}",
            row.baseline_name,
            number(row.baseline_rate, ",.0f"),
            number(row.share, ".0%"),
            number(row.p50_ms, ".0f"),
            number(row.p99_ms, ".0f"),
            number(row.cpu_ms, ".2f"),
            number(row.machine_busy, ".0%"),
            "" if row.memory is None else f"{row.memory[0]:.0f} → {row.memory[1]:.0f}",
        )
    console.print(table)
    named = {row.name.split(" (")[0]: row for row in rows}
    verdicts = [
        (named["SQLite end to end"], "of the ceiling", END_TO_END_TARGET, row_share),
        (named["SQLite publish alone"], "of /healthz", PUBLISH_TARGET, row_share),
        (named["SQLite batch publish"], "times the single publishes", BATCH_TARGET, row_share),
        (named["SQLite latency at half that rate"], "p99 ms", LATENCY_TARGET_MS, row_p99),
    ]
    if "SQLite Send API" in named:
        verdicts.append((named["SQLite Send API"], "messages/s", SEND_API_TARGET, row_rate))
    pg = [row for row in rows if row.name.startswith("PostgreSQL end to end")]
    if len(pg) == 2:
        scaled = Row("PostgreSQL 2 + 2 beside 1 + 1", pg[1].count, pg[1].seconds, "", pg[0].rate)
        verdicts.append((scaled, "of 1 + 1", SCALE_TARGET, row_share))
    passed = True
    for row, unit, target, measure in verdicts:
        value, met = measure(row, target)
        passed = passed and met
        console.print(f"{'PASS' if met else 'FAIL'}: {row.name} at {value} {unit} (target {target:g})")
    return passed


def row_share(row: Row, target: float) -> tuple[str, bool]:
    share = row.share or 0.0
    return f"{share:.2f}", share >= target


def row_rate(row: Row, target: float) -> tuple[str, bool]:
    return f"{row.rate:,.0f}", row.rate >= target


def row_p99(row: Row, target: float) -> tuple[str, bool]:
    p99 = row.p99_ms if row.p99_ms is not None else float("inf")
    return f"{p99:.0f}", p99 < target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=5_000, help="Notifications per row (one request each).")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN_URL, help="PostgreSQL to make a scratch database in.")
    parser.add_argument("--check", action="store_true", help="Exit 1 when a target is missed.")
    arguments = parser.parse_args(argv)
    console = Console(width=170)
    with tempfile.TemporaryDirectory(prefix="appinstall-ingest-") as temporary, receiver_process() as receiver:
        directory = Path(temporary)
        rows = sqlite_end_to_end(directory, receiver, arguments.count)
        rows += publish_alone(directory, receiver, arguments.count)
        rows.append(send_api_row(directory, receiver, arguments.count))
        with postgres_database(arguments.postgres, console) as database_url:
            if database_url is not None:
                rows += postgres_end_to_end(directory, receiver, arguments.count, database_url)
    passed = report(rows, console)
    console.print(f"command: python bench/ingest.py --count {arguments.count}")
    return 1 if arguments.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
