"""``appinstall worker`` beside ``appinstall serve --no-worker`` on one SQLite file: the worker in a process of its
own hears each publish at once (a datagram, ``store/wake_sockets.py``) instead of at its next poll, a second later."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx

from tests.faults.receiving import ADMIN, delivered_ids, fast_webhooks, install_receiving_app, wait_for
from tests.live_server import live_server, worker_process
from tests.webhooks.flow import message
from tests.webhooks.receiver import ReceiverThread

PUBLISHES = 10
# Each publish follows the previous arrival, so a worker that polled every second would take about a second each.
AT_ONCE_SECONDS = 0.3


def test_a_worker_process_beside_serve_on_sqlite_delivers_each_publish_at_once(
    tmp_path: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    ca, cert, key = tls_files
    environment = fast_webhooks(ca)
    data = tmp_path / "data"
    with (
        ReceiverThread(cert, key) as receiver,
        live_server(data, "--no-worker", **environment) as api,
        worker_process(tmp_path / "worker", APPINSTALL_DATA_DIR=str(data), **environment),
    ):
        install_receiving_app(api.url, "beside", receiver)
        taken = []
        for n in range(PUBLISHES):
            started = time.monotonic()
            published = httpx.post(
                f"{api.url}/api/account/beside/notifications", json=message(f"conv-{n}", f"hi {n}"), headers=ADMIN
            )
            assert published.status_code == 202, published.text
            [delivery] = published.json()["deliveries"]
            sent = delivery["id"]
            wait_for(lambda sent=sent: sent in delivered_ids(receiver), 10, f"delivery {n}", every=0.005)
            taken.append(time.monotonic() - started)
    assert statistics.median(taken) < AT_ONCE_SECONDS, taken
