"""Webhook delivery with a large delivery log stored, beside an empty store, measured end to end in one run.

Storage used to grow for ever; now the worker removes finished deliveries older than
``APPINSTALL_DELIVERY_LOG_DAYS`` (30). This bench asks what a big history costs the user: events in through the
API, webhooks out, on SQLite (``appinstall serve --dev`` with its worker, a local receiver answering 200 at once).
Rows, each on a fresh data folder:

* ``empty``: no history (the baseline);
* ``kept``: ``--history`` finished deliveries (with their notifications and one attempt each) published 10 days ago,
  so kept: the delivery queries run beside a big log;
* ``expiring``: the same history published 40 days ago, so the worker removes it while the row is measured: the
  cost of pruning to the traffic it runs beside.

Each row publishes ``--rate`` notifications a second for ``--seconds``, one request at a time per client as a
connector sends them, and reports the publish-to-arrival p50 and p99 and how much history is left at the end. The
verdict: with history (kept or expiring), p99 stays within twice the empty store's p99 plus 50 ms.

Run ``python bench/history.py`` (``--history 1000000`` is the default; inserting it takes a minute or two).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sqlite3
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from registry_api import running_server, server_environment
from rich.console import Console
from rich.table import Table
from webhooks import ACCOUNT, CONTENT, Receiver, install_apps, latency, receiver_process

DAY_MS = 86_400_000
BODY = b'{"kind":"notification","body":{"changes":[]},"type":"ms.MessagingEventNotification"}' + b" " * 300


@dataclass
class Result:
    name: str
    history: int
    p50_ms: float
    p99_ms: float
    left: int


def insert_history(database: Path, installation_id: str, count: int, age_days: int) -> None:
    """``count`` finished deliveries, each with its notification and one attempt, published ``age_days`` ago."""
    published = int(time.time() * 1000) - age_days * DAY_MS
    with contextlib.closing(sqlite3.connect(database)) as connection:
        start = (connection.execute("SELECT max(id) FROM notifications").fetchone()[0] or 0) + 1
        seq = (connection.execute("SELECT max(seq) FROM deliveries").fetchone()[0] or 0) + 1
        batch = 50_000
        for offset in range(0, count, batch):
            size = min(batch, count - offset)
            ids = range(start + offset, start + offset + size)
            at = [published + (i - start) // 100 for i in ids]  # a little later each: ids grow with time
            connection.executemany(
                "INSERT INTO notifications (id, account_id, event_type, conversation_id, body, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ((i, ACCOUNT, CONTENT, f"old-{i}", BODY, t) for i, t in zip(ids, at, strict=True)),
            )
            connection.executemany(
                "INSERT INTO deliveries (seq, id, account_id, installation_id, notification_id, event_type,"
                " conversation_id, status, attempts, round_attempts, round_started_at, next_attempt_at, created_at,"
                " updated_at, last_status_code) VALUES (?, ?, ?, ?, ?, ?, ?, 'succeeded', 1, 1, ?, ?, ?, ?, 200)",
                (
                    (seq + i - start, f"msg_{uuid.uuid4().hex}", ACCOUNT, installation_id, i, CONTENT, f"old-{i}")
                    + (t,) * 4
                    for i, t in zip(ids, at, strict=True)
                ),
            )
            connection.executemany(
                "INSERT INTO delivery_attempts (delivery_seq, number, started_at, latency_ms, status_code)"
                " VALUES (?, 1, ?, 3, 200)",
                ((seq + i - start, t) for i, t in zip(ids, at, strict=True)),
            )
            connection.commit()


def history_left(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        query = "SELECT count(*) FROM deliveries WHERE conversation_id LIKE 'old-%'"
        left: int = connection.execute(query).fetchone()[0]
    return left


def measure(
    name: str, directory: Path, receiver: Receiver, history: int, age_days: int, rate: float, seconds: float
) -> Result:
    data = directory / name.split()[0]
    data.mkdir()
    token = f"aio_{secrets.token_urlsafe(16)}"
    environment = server_environment(data, token, None) | {"APPINSTALL_DEV": "true"}
    with running_server(data / "setup.log", environment | {"APPINSTALL_WORKER": "false"}) as server:
        [installation] = install_apps(server, token, receiver, 1)
    if history:
        insert_history(data / "appinstall.db", installation, history, age_days)
    with running_server(data / "serve.log", environment) as server:
        time.sleep(2)  # past the worker's first housekeeping, as a server that has been up a while
        row = latency(name, server, token, receiver, rate, seconds)
    assert row.p50_ms is not None and row.p99_ms is not None
    return Result(name, history, row.p50_ms, row.p99_ms, history_left(data / "appinstall.db") if history else 0)


def report(results: list[Result], console: Console) -> bool:
    table = Table(title="Webhook delivery beside a stored delivery log (SQLite, publish → arrival)")
    for column in ("row", "history stored", "p50 ms", "p99 ms", "history left after"):
        table.add_column(column, justify="left" if column == "row" else "right")
    for result in results:
        table.add_row(
            result.name, f"{result.history:,}", f"{result.p50_ms:.0f}", f"{result.p99_ms:.0f}", f"{result.left:,}"
        )
    console.print(table)
    baseline = results[0].p99_ms
    limit = 2 * baseline + 50
    worst = max(result.p99_ms for result in results[1:])
    met = worst <= limit
    verdict = "PASS" if met else "FAIL"
    console.print(f"{verdict}: p99 with history {worst:.0f} ms, limit {limit:.0f} ms (twice empty {baseline:.0f} + 50)")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--history", type=int, default=1_000_000, help="Finished deliveries stored.")
    parser.add_argument("--rate", type=float, default=50.0, help="Publishes per second.")
    parser.add_argument("--seconds", type=float, default=20.0, help="How long each row publishes.")
    parser.add_argument("--check", action="store_true", help="Exit 1 on FAIL.")
    options = parser.parse_args(argv)
    console = Console(width=max(Console().width, 110))
    os.environ.pop("APPINSTALL_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="appinstall-bench-") as temporary, receiver_process() as receiver:
        directory = Path(temporary)
        results = [
            measure("empty", directory, receiver, 0, 0, options.rate, options.seconds),
            measure("kept (10 days old)", directory, receiver, options.history, 10, options.rate, options.seconds),
            measure("expiring (40 days old)", directory, receiver, options.history, 40, options.rate, options.seconds),
        ]
        met = report(results, console)
    return 1 if options.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
