"""One tenant's webhook latency while another tenant's endpoint hangs: Y's deliveries without and with X's backlog.

Everything runs on this machine: the benchmark's receiver (``webhook_receiver.py``, answers 200 at once) for tenant
Y, a TCP server in this process for tenant X that accepts every connection and never answers, and ``appinstall
serve --dev`` with its worker, on SQLite and then on PostgreSQL, with the default limits (32 requests per host,
256 per worker, 10 s timeout). Rows, per engine, in the same run:

* ``Y alone``: Y's ``--count`` notifications (20), one every 50 ms, with nothing else queued: publish to arrival.
* ``Y beside X``: X's ``--backlog`` notifications (2,000) are published first, to X's installation only, and the
  benchmark waits until X's endpoint holds the connections its host may have; then Y's, as above. A delivery that
  has not arrived by ``--deadline`` seconds (60) counts as missing.

The verdict: ``PASS`` when, on every engine, all of Y's arrived beside X and their p99 is under a second.

Run ``python bench/fairness.py``; ``--check`` exits 1 on ``FAIL``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import uvloop
from registry_api import POSTGRES_ADMIN_URL, SEED, Server, postgres_database, running_server, server_environment
from rich.console import Console
from rich.table import Table
from webhooks import ACCOUNT, BASE, CONTENT, Receiver, notification, operator_client, receiver_process

PER_HOST = 32  # the default per-host limit: X's endpoint fills when it holds this many connections


class Silent:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers, in a thread."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=4096)
        self.port: int = self._socket.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.connections.append(connection)

    def __enter__(self) -> Silent:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._socket.close()
        for connection in self.connections:
            connection.close()


@dataclass
class Row:
    name: str
    published: int
    arrived: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None


def install(server: Server, token: str, endpoint: str) -> str:
    with operator_client(server, token) as client:
        client.post("/api/accounts", json={"id": ACCOUNT})
        manifest = json.loads(SEED.read_text())
        manifest["client_name"] = f"fair-{uuid.uuid4().hex[:8]}"
        manifest["capabilities"]["webhooks"] = {CONTENT: {"endpoint": endpoint, "max_retries": 3}}
        response = client.post(BASE, json=manifest)
        response.raise_for_status()
        installation: str = response.json()["id"]
        return installation


async def publish_to(
    server: Server, token: str, installation: str, count: int, *, every: float = 0.0, tag: str = "y"
) -> dict[str, float]:
    """Publish ``count`` notifications to one installation (one every ``every`` s, else 16 at a time); delivery id
    → publish time."""
    published: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"{server.url}/api/account/{ACCOUNT}/notifications"
    async with aiohttp.ClientSession(headers=headers) as session:
        semaphore = asyncio.Semaphore(16)

        async def one(index: int) -> None:
            body = json.dumps(notification(f"{tag}-{index}", f"{tag} {index}"))
            async with semaphore:
                sent = time.time()
                async with session.post(url, data=body, params={"installation_id": installation}) as response:
                    assert response.status == 202, await response.text()
                    for delivery in (await response.json())["deliveries"]:
                        published[delivery["id"]] = sent

        tasks = []
        started = time.monotonic()
        for index in range(count):
            await asyncio.sleep(max(0.0, started + index * every - time.monotonic()))
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
    return published


def measure(name: str, server: Server, token: str, receiver: Receiver, y: str, count: int, deadline: float) -> Row:
    receiver.reset()
    published = uvloop.run(publish_to(server, token, y, count, every=0.05))
    until = time.monotonic() + deadline
    while receiver.count() < len(published) and time.monotonic() < until:
        time.sleep(0.05)
    arrivals = receiver.stats()["first"]
    delays = sorted((arrivals[i] - sent) * 1000 for i, sent in published.items() if i in arrivals)
    if not delays:
        return Row(name, len(published), 0, None, None, None)
    return Row(
        name,
        len(published),
        len(delays),
        statistics.median(delays),
        delays[math.ceil(0.99 * len(delays)) - 1],
        delays[-1],
    )


def wait_for(condition: object, seconds: float, what: str) -> None:
    until = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > until:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def engine_rows(
    engine: str, directory: Path, receiver: Receiver, database_url: str | None, options: argparse.Namespace
) -> list[Row]:
    token = f"aio_{secrets.token_urlsafe(16)}"
    environment = server_environment(directory / engine, token, database_url) | {
        "APPINSTALL_DEV": "true",
        "APPINSTALL_WORKER": "true",
    }
    with Silent() as silent, running_server(directory / f"{engine}.log", environment) as server:
        x = install(server, token, f"http://127.0.0.1:{silent.port}/hook")
        y = install(server, token, f"{receiver.url}/hook")
        rows = [measure(f"{engine}: Y alone", server, token, receiver, y, options.count, options.deadline)]
        uvloop.run(publish_to(server, token, x, options.backlog, tag="x"))
        wait_for(lambda: len(silent.connections) >= PER_HOST, 30, "X's endpoint to fill")
        name = f"{engine}: Y beside X's {options.backlog:,} (hanging)"
        rows.append(measure(name, server, token, receiver, y, options.count, options.deadline))
    return rows


def report(rows: list[Row], console: Console) -> bool:
    table = Table(title="One tenant's latency while another's endpoint hangs")
    for column in ("row", "published", "arrived", "p50 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="left" if column == "row" else "right")
    for row in rows:
        table.add_row(
            row.name,
            f"{row.published:,}",
            f"{row.arrived:,}",
            *("" if value is None else f"{value:,.0f}" for value in (row.p50_ms, row.p99_ms, row.max_ms)),
        )
    console.print(table)
    beside = [row for row in rows if "beside" in row.name]
    met = bool(beside) and all(
        row.arrived == row.published and row.p99_ms is not None and row.p99_ms < 1000 for row in beside
    )
    console.print(
        f"{'PASS' if met else 'FAIL'}: beside X's hanging backlog, all of Y's arrived with p99 under 1 s "
        f"({'; '.join(f'{row.arrived}/{row.published}, p99 {row.p99_ms or math.inf:,.0f} ms' for row in beside)})"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backlog", type=int, default=2_000, help="X's notifications queued to its hanging host.")
    parser.add_argument("--count", type=int, default=20, help="Y's notifications per row.")
    parser.add_argument("--deadline", type=float, default=60.0, help="Seconds to wait for Y's deliveries.")
    parser.add_argument("--check", action="store_true", help="Exit 1 on FAIL.")
    options = parser.parse_args(argv)
    console = Console(width=max(Console().width, 110))
    os.environ.pop("APPINSTALL_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="appinstall-fair-") as temporary, receiver_process() as receiver:
        directory = Path(temporary)
        rows = engine_rows("SQLite", directory, receiver, None, options)
        admin_url = POSTGRES_ADMIN_URL
        with postgres_database(admin_url, console) as database_url:
            if database_url is not None:
                rows += engine_rows("PostgreSQL", directory, receiver, database_url, options)
        met = report(rows, console)
    return 1 if options.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
