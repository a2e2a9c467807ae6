"""The API process killed (SIGKILL) while many clients publish: every notification that got a 202 is delivered, and
one whose answer was lost with the process is delivered at most once per webhook. On SQLite the server with its
worker; on PostgreSQL an API process while a separate worker delivers. (Killed after publishing:
test_process_kills.py.)"""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.faults.publishing_load import assert_publishes_survived, publish_until_killed, wait_until_settled
from tests.faults.receiving import fast_webhooks, install_receiving_app
from tests.live_server import live_server, worker_process
from tests.webhooks.receiver import Receiver, ReceiverThread

PATHS = ("/first", "/second")  # two installations: "at most once per webhook" is per webhook


def _install_two(api: str, receiver: Receiver) -> tuple[str, dict[str, str]]:
    """A new account (the PostgreSQL database is shared with other tests) with two installations receiving text
    messages at two paths; answers the account and installation id → path."""
    account = f"load{uuid.uuid4().hex[:8]}"
    paths = {}
    for path in PATHS:
        installed = install_receiving_app(api, account, receiver, path=path, client_name=f"load-{uuid.uuid4().hex[:8]}")
        paths[installed["id"]] = path
    return account, paths


def test_killing_the_sqlite_server_while_clients_publish_loses_no_acknowledged_notification(
    tmp_path: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    ca, cert, key = tls_files
    environment = fast_webhooks(ca)
    with ReceiverThread(cert, key, delay=0.01) as receiver:
        with live_server(tmp_path / "data", **environment) as first:
            account, paths = _install_two(first.url, receiver)
            load = publish_until_killed(first.url, account, first.process.kill)
            first.process.wait()
        with live_server(tmp_path / "data", **environment) as second:
            wait_until_settled(second.url, account, list(paths))
    assert load.in_flight_at_kill > 0
    assert_publishes_survived(receiver, load, paths)


def test_killing_a_postgresql_api_process_while_clients_publish_loses_no_acknowledged_notification(
    postgres_database: str, tmp_path: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    ca, cert, key = tls_files
    environment = {"APPINSTALL_DATABASE_URL": postgres_database, **fast_webhooks(ca)}
    with (
        ReceiverThread(cert, key, delay=0.01) as receiver,
        worker_process(tmp_path / "worker", **environment),
    ):
        with live_server(tmp_path / "api", APPINSTALL_WORKER="false", **environment) as first:
            account, paths = _install_two(first.url, receiver)
            load = publish_until_killed(first.url, account, first.process.kill)
            first.process.wait()
        with live_server(tmp_path / "api", APPINSTALL_WORKER="false", **environment) as second:
            wait_until_settled(second.url, account, list(paths))
    assert load.in_flight_at_kill > 0
    assert_publishes_survived(receiver, load, paths)
