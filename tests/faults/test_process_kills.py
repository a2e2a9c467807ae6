"""Processes killed mid-run (SIGKILL: no chance to give anything back) lose nothing: a worker among two (on
PostgreSQL, and on a SQLite file beside ``serve --no-worker``), and the SQLite server itself. Every notification
that got a 202 is delivered, in order per conversation. (Killed while clients publish: test_publish_kills.py.)
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from collections import defaultdict
from pathlib import Path

import asyncpg
import httpx

from tests.faults.receiving import ADMIN, fast_webhooks, install_receiving_app, statuses, wait_for
from tests.live_server import free_port, live_server, worker_process
from tests.webhooks.flow import JSON_TYPE, message
from tests.webhooks.receiver import Receiver, ReceiverThread

# --- Real processes --------------------------------------------------------------------------------------------

CONVERSATIONS = 20
PER_CONVERSATION = 10


def _install_and_publish(api: str, receiver: Receiver) -> tuple[str, str, dict[str, list[str]]]:
    """In a new account, install an app that subscribes to text messages and publish many notifications per
    conversation. The account shares the session's PostgreSQL database with other tests, hence its unique id."""
    account = f"crash{uuid.uuid4().hex[:8]}"
    installed = install_receiving_app(api, account, receiver, client_name=f"crash-{uuid.uuid4().hex[:8]}")
    published: dict[str, list[str]] = defaultdict(list)
    with httpx.Client(base_url=api, headers={**ADMIN, **JSON_TYPE}) as http:
        for index in range(PER_CONVERSATION):
            for conversation in range(CONVERSATIONS):
                document = message(f"conv-{conversation}", f"{conversation}:{index}")
                response = http.post(f"/api/account/{account}/notifications", content=json.dumps(document))
                assert response.status_code == 202, response.text
                published[f"conv-{conversation}"].append(response.json()["deliveries"][0]["id"])
    return account, installed["id"], published


def _leased_by(database_url: str, owner: str) -> int:
    """How many deliveries ``owner`` holds in flight right now, read from PostgreSQL."""

    async def count() -> int:
        connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            found = await connection.fetchval(
                "SELECT count(*) FROM deliveries WHERE lease_owner = $1 AND status = 'in_flight'", owner
            )
            return int(found)
        finally:
            await connection.close()

    return asyncio.run(count())


def _leased_in_sqlite(database: Path, owner: str) -> int:
    """How many deliveries ``owner`` holds in flight right now, read from the SQLite file (WAL: beside the writers)."""
    with sqlite3.connect(database) as connection:
        (found,) = connection.execute(
            "SELECT count(*) FROM deliveries WHERE lease_owner = ? AND status = 'in_flight'", (owner,)
        ).fetchone()
    return int(found)


def _assert_all_delivered_in_order(receiver: Receiver, published: dict[str, list[str]]) -> None:
    first_arrivals: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for request in list(receiver.received):
        webhook_id = request.headers["webhook-id"]
        if webhook_id in seen:
            continue  # at least once: a repeat after a crash carries the same id
        seen.add(webhook_id)
        conversation = json.loads(request.body)["body"]["changes"][0]["conversationId"]
        first_arrivals[conversation].append(webhook_id)
    assert seen == {delivery for ids in published.values() for delivery in ids}
    for conversation, ids in published.items():
        assert first_arrivals[conversation] == ids, conversation


def test_killing_one_of_two_postgresql_workers_loses_nothing(
    postgres_database: str, tmp_path: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    ca, cert, key = tls_files
    environment = {"APPINSTALL_DATABASE_URL": postgres_database, **fast_webhooks(ca)}
    metrics_port = free_port()
    with (
        ReceiverThread(cert, key, delay=0.2) as receiver,
        live_server(tmp_path / "api", APPINSTALL_WORKER="false", **environment) as api,
        worker_process(tmp_path / "w1", **environment) as doomed,
        worker_process(tmp_path / "w2", APPINSTALL_WORKER_METRICS_PORT=str(metrics_port), **environment) as survivor,
    ):
        account, installation_id, published = _install_and_publish(api.url, receiver)
        total = CONVERSATIONS * PER_CONVERSATION
        owner = re.search(r"webhook worker (\S+) running", doomed.log.read_text())
        assert owner is not None
        wait_for(lambda: _leased_by(postgres_database, owner[1]) > 0, 60, "the doomed worker to hold deliveries")
        doomed.process.kill()  # SIGKILL mid-request: no chance to give anything back
        doomed.process.wait()
        wait_for(lambda: statuses(api.url, account, installation_id).count("succeeded") == total, 90, "every delivery")
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        log = survivor.stop()
    _assert_all_delivered_in_order(receiver, published)
    assert "took back" in log, "the surviving worker never took over an expired lease"
    assert 'appinstall_webhook_deliveries_total{outcome="succeeded"}' in scraped


def test_killing_the_sqlite_server_mid_run_loses_nothing(tmp_path: Path, tls_files: tuple[Path, Path, Path]) -> None:
    ca, cert, key = tls_files
    environment = fast_webhooks(ca)
    with ReceiverThread(cert, key, delay=0.03) as receiver:
        with live_server(tmp_path / "data", **environment) as first:
            account, installation_id, published = _install_and_publish(first.url, receiver)
            wait_for(lambda: len(receiver.received) >= 20, 60, "the first deliveries")
            first.process.kill()
            first.process.wait()
        total = CONVERSATIONS * PER_CONVERSATION
        with live_server(tmp_path / "data", **environment) as second:
            wait_for(
                lambda: statuses(second.url, account, installation_id).count("succeeded") == total,
                90,
                "every delivery",
            )
    _assert_all_delivered_in_order(receiver, published)


def test_killing_one_of_two_workers_beside_a_sqlite_server_loses_nothing(
    tmp_path: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    ca, cert, key = tls_files
    environment = fast_webhooks(ca)
    data = tmp_path / "data"
    on_the_file = {"APPINSTALL_DATA_DIR": str(data), **environment}
    with (
        ReceiverThread(cert, key, delay=0.2) as receiver,
        live_server(data, "--no-worker", **environment) as api,
        worker_process(tmp_path / "w1", **on_the_file) as doomed,
        worker_process(tmp_path / "w2", **on_the_file) as survivor,
    ):
        account, installation_id, published = _install_and_publish(api.url, receiver)
        total = CONVERSATIONS * PER_CONVERSATION
        owner = re.search(r"webhook worker (\S+) running", doomed.log.read_text())
        assert owner is not None
        database = data / "appinstall.db"
        wait_for(lambda: _leased_in_sqlite(database, owner[1]) > 0, 60, "the doomed worker to hold deliveries")
        doomed.process.kill()  # SIGKILL mid-request: its socket file stays behind, its leases run out
        doomed.process.wait()
        wait_for(lambda: statuses(api.url, account, installation_id).count("succeeded") == total, 90, "every delivery")
        log = survivor.stop()
    _assert_all_delivered_in_order(receiver, published)
    assert "took back" in log, "the surviving worker never took over an expired lease"
