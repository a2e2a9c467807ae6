"""Console pages with a big delivery log stored: does every page answer in under 100 ms?

What a person does: signs in (through the form, as a browser), then opens the pages one after another while
notifications keep coming in and being delivered. The store (SQLite, ``appinstall serve --dev`` with its worker)
holds ``--deliveries`` deliveries (100,000 by default: each with its notification and one attempt, 5 % of them
failed, spread over the last two days and 20,000 conversations), inserted straight into the database before the
server starts, beside one installation whose webhook points at a local receiver. During the measurement a client
publishes ``--rate`` notifications a second through the API, so the worker delivers while pages are read.

Each page is fetched ``--requests`` times, one request at a time with the session cookie (after a few unmeasured
warm-up fetches), and reports p50, p95 and the slowest. Baselines, measured in the same run against the same
server: ``/healthz`` (the floor of any request here) and the API's own list of the installation's deliveries (the
same data as JSON). The verdict: every console page's p95 under 100 ms.

Run ``python bench/console.py`` (inserting the deliveries takes a few seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from registry_api import Server, running_server, server_environment
from rich.console import Console
from rich.table import Table
from webhooks import ACCOUNT, CONTENT, install_apps, notification, receiver_process

LIMIT_MS = 100.0
DAY_MS = 86_400_000
WARM_UP = 3
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_DELIVERY_LINK = re.compile(r'href="(/console/accounts/[^"]+/deliveries/msg_[0-9a-f]+)"')
API_DELIVERIES = "/api/account/{account}/configuration/app-install/installations/{installation}/deliveries"


@dataclass
class Row:
    name: str
    path: str
    baseline: bool
    status: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @property
    def passed(self) -> bool:
        return self.baseline or (self.status == 200 and self.p95_ms < LIMIT_MS)


def insert_deliveries(database: Path, installation_id: str, count: int) -> None:
    """``count`` finished deliveries over the last two days, each with its notification and one attempt."""
    now = int(time.time() * 1000)
    with contextlib.closing(sqlite3.connect(database)) as connection:
        start = (connection.execute("SELECT max(id) FROM notifications").fetchone()[0] or 0) + 1
        seq = (connection.execute("SELECT max(seq) FROM deliveries").fetchone()[0] or 0) + 1
        batch = 20_000
        for offset in range(0, count, batch):
            ids = range(start + offset, start + offset + min(batch, count - offset))
            rows = []
            for i in ids:
                at = now - 2 * DAY_MS + (i - start) * (2 * DAY_MS // count)
                failed = i % 20 == 0
                body = json.dumps(notification(f"old-{i % 20_000}", f"message {i}")).encode()
                rows.append((i, at, failed, body))
            connection.executemany(
                "INSERT INTO notifications (id, account_id, event_type, conversation_id, body, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ((i, ACCOUNT, CONTENT, f"old-{i % 20_000}", body, at) for i, at, _, body in rows),
            )
            connection.executemany(
                "INSERT INTO deliveries (seq, id, account_id, installation_id, notification_id, event_type,"
                " conversation_id, status, attempts, round_attempts, round_started_at, next_attempt_at, created_at,"
                " updated_at, last_status_code, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        seq + i - start,
                        f"msg_{uuid.uuid4().hex}",
                        ACCOUNT,
                        installation_id,
                        i,
                        CONTENT,
                        f"old-{i % 20_000}",
                        "failed" if failed else "succeeded",
                        at,
                        at,
                        at,
                        at,
                        500 if failed else 200,
                        "the receiver answered 500" if failed else None,
                    )
                    for i, at, failed, _ in rows
                ),
            )
            connection.executemany(
                "INSERT INTO delivery_attempts (delivery_seq, number, started_at, latency_ms, status_code,"
                " response_excerpt) VALUES (?, 1, ?, 3, ?, ?)",
                ((seq + i - start, at, 500 if bad else 200, "oops" if bad else "ok") for i, at, bad, _ in rows),
            )
            connection.commit()


@contextlib.contextmanager
def signed_in(server: Server, token: str) -> Iterator[httpx.Client]:
    """A client holding a console session, signed in through the form as a browser does."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        form = client.get("/console/sign-in")
        found = _CSRF.search(form.text)
        assert found, form.text
        answer = client.post(
            "/console/sign-in",
            data={"key": token, "csrf_token": found.group(1)},
            headers={"Origin": server.url, "Sec-Fetch-Site": "same-origin"},
        )
        assert answer.status_code == 303, answer.text
        yield client


def measure(client: httpx.Client, name: str, path: str, requests: int, *, baseline: bool = False) -> Row:
    status = 0
    for _ in range(WARM_UP):
        status = client.get(path).status_code
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        status = client.get(path).status_code
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return Row(name, path, baseline, status, statistics.median(times), p95, times[-1])


@contextlib.contextmanager
def publishing(server: Server, token: str, rate: float) -> Iterator[list[int]]:
    """Publish ``rate`` notifications a second through the API until the block ends; yields the count so far."""
    sent = [0]
    stop = threading.Event()

    def run() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            while not stop.is_set():
                started = time.monotonic()
                body = notification(f"live-{sent[0] % 100}", f"live {sent[0]}")
                client.post(f"/api/account/{ACCOUNT}/notifications", json=body).raise_for_status()
                sent[0] += 1
                stop.wait(max(0.0, 1 / rate - (time.monotonic() - started)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield sent
    finally:
        stop.set()
        thread.join(timeout=30)


def pages(client: httpx.Client, installation: str) -> list[tuple[str, str]]:
    """The pages a person opens, in the order they would; a delivery's page is found from the list's first link."""
    base = f"/console/accounts/{ACCOUNT}"
    listed = [
        ("installations", f"{base}/installations"),
        ("installation", f"{base}/installations/{installation}"),
        ("webhook health", f"{base}/installations/{installation}/webhooks"),
        ("deliveries", f"{base}/deliveries"),
        ("deliveries, failed", f"{base}/deliveries?status=failed"),
        ("deliveries, one conversation", f"{base}/deliveries?conversation=old-777"),
        ("deliveries, one installation", f"{base}/deliveries?installation={installation}"),
    ]
    found = _DELIVERY_LINK.search(client.get(f"{base}/deliveries?status=failed").text)
    listed.append(("a delivery", found.group(1) if found else f"{base}/deliveries/(no link found on the list)"))
    listed += [("sandbox", f"{base}/sandbox"), ("keys", f"{base}/keys")]
    return listed


def run(directory: Path, count: int, requests: int, rate: float) -> tuple[list[Row], int]:
    token = f"aio_{secrets.token_urlsafe(16)}"
    environment = server_environment(directory, token, None) | {"APPINSTALL_DEV": "true"}
    with receiver_process() as receiver:
        with running_server(directory / "setup.log", environment | {"APPINSTALL_WORKER": "false"}) as server:
            [installation] = install_apps(server, token, receiver, 1)
        insert_deliveries(directory / "appinstall.db", installation, count)
        with running_server(directory / "serve.log", environment) as server, signed_in(server, token) as client:
            api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            with api, publishing(server, token, rate) as sent:
                rows = [
                    measure(client, "/healthz", "/healthz", requests, baseline=True),
                    measure(
                        api,
                        "API: an installation's deliveries (JSON)",
                        API_DELIVERIES.format(account=ACCOUNT, installation=installation),
                        requests,
                        baseline=True,
                    ),
                ]
                rows += [measure(client, name, path, requests) for name, path in pages(client, installation)]
            return rows, sent[0]


def report(rows: list[Row], count: int, published: int, console: Console) -> bool:
    table = Table(title=f"Console pages with {count:,} deliveries stored (SQLite, {published} published meanwhile)")
    for column in ("page", "status", "p50 ms", "p95 ms", "max ms", f"p95 < {LIMIT_MS:.0f} ms"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for row in rows:
        verdict = "baseline" if row.baseline else ("yes" if row.passed else "NO")
        table.add_row(row.name, str(row.status), f"{row.p50_ms:.1f}", f"{row.p95_ms:.1f}", f"{row.max_ms:.1f}", verdict)
    console.print(table)
    failed = [row.name for row in rows if not row.passed]
    console.print(
        f"FAIL: over {LIMIT_MS:.0f} ms or not 200: {', '.join(failed)}"
        if failed
        else f"PASS: every console page's p95 under {LIMIT_MS:.0f} ms"
    )
    return not failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=100_000, help="deliveries stored (default 100,000)")
    parser.add_argument("--requests", type=int, default=40, help="measured fetches of each page (default 40)")
    parser.add_argument("--rate", type=float, default=20.0, help="notifications published a second meanwhile")
    options = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="appinstall-bench-console-") as directory:
        rows, published = run(Path(directory), options.deliveries, options.requests, options.rate)
    return 0 if report(rows, options.deliveries, published, console) else 1


if __name__ == "__main__":
    sys.exit(main())
