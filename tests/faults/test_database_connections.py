"""PostgreSQL drops every connection of the server under load: what was acknowledged is delivered, nothing is 500.

The server and its worker run as a real ``appinstall serve`` process on a database of their own; a client publishes
one notification after another while, part-way, every connection to that database is terminated from outside
(``pg_terminate_backend``, what a database restart or a failover does to its clients). Each publish is either
acknowledged (202: stored, so it must be delivered) or refused with 503 (not stored: the client sends it again),
never answered 500; the server serves again at once, without a restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.faults.receiving import delivered_ids, install_receiving_app
from tests.live_server import OPERATOR_TOKEN, live_server
from tests.webhooks.flow import JSON_TYPE, message
from tests.webhooks.receiver import ReceiverThread

PUBLISHES = 400
CLIENTS = 8
DROPS = 5
DROP_EVERY_SECONDS = 0.3


async def _admin(statement: str, *arguments: object) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(statement, *arguments)
    finally:
        await connection.close()


@pytest.fixture
def own_database() -> Iterator[str]:
    """A database only this test's server uses, so that dropping its connections touches nothing else."""
    name = f"appinstall_fault_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except OSError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {error}")
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    yield name
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drop_every_connection(database: str) -> None:
    asyncio.run(
        _admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    )


def publish_through_the_drops(api: str, account: str, database: str) -> tuple[list[str], list[httpx.Response]]:
    """Publish from ``CLIENTS`` clients at once while every connection is dropped ``DROPS`` times: the acknowledged
    delivery ids, and every answer that was not a 202."""
    acknowledged: list[str] = []
    refused: list[httpx.Response] = []
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", **JSON_TYPE}

    def client(number: int) -> None:
        with httpx.Client(base_url=api, headers=headers, timeout=30) as http:
            for index in range(PUBLISHES // CLIENTS):
                document = message(f"conv-{number}", f"message {index}")
                response = http.post(f"/api/account/{account}/notifications", content=json.dumps(document))
                if response.status_code == 202:
                    acknowledged.extend(delivery["id"] for delivery in response.json()["deliveries"])
                else:
                    refused.append(response)

    publishers = [threading.Thread(target=client, args=(number,)) for number in range(CLIENTS)]
    for thread in publishers:
        thread.start()
    for _ in range(DROPS):
        time.sleep(DROP_EVERY_SECONDS)
        drop_every_connection(database)
    for thread in publishers:
        thread.join(timeout=120)
    return acknowledged, refused


def test_dropped_database_connections_lose_no_acknowledged_notification_and_answer_no_500(
    own_database: str, tmp_path: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    ca, cert, key = tls_files
    base_url = POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0]
    environment = {
        "APPINSTALL_DATABASE_URL": f"{base_url}/{own_database}",
        "APPINSTALL_DEV": "true",
        "APPINSTALL_WEBHOOK_CA_FILE": str(ca),
        "APPINSTALL_WEBHOOK_RETRY_FIRST_DELAY_SECONDS": "0.05",
    }
    account = "faults"
    with ReceiverThread(cert, key) as receiver, live_server(tmp_path / "api", **environment) as server:
        install_receiving_app(server.url, account, receiver)

        acknowledged, refused = publish_through_the_drops(server.url, account, own_database)

        deadline = time.monotonic() + 60
        while not set(acknowledged) <= delivered_ids(receiver) and time.monotonic() < deadline:
            time.sleep(0.1)
        ready = httpx.get(f"{server.url}/readyz")
        log = server.stop()
    assert [r.status_code for r in refused if r.status_code != 503] == [], log[-6000:]
    assert all(r.headers.get("content-type") == "application/problem+json" for r in refused)
    assert len(acknowledged) >= PUBLISHES - len(refused) > 0
    missing = set(acknowledged) - delivered_ids(receiver)
    worker_lines = "\n".join(line for line in log.splitlines() if "uvicorn.access" not in line)
    assert not missing, f"{len(missing)} acknowledged deliveries never arrived; server log:\n{worker_lines[-6000:]}"
    assert ready.status_code == 200
