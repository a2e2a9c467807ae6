"""The SQLite folder's disk fills up under load: publishes are refused with 503 (never 500), nothing acknowledged is
lost, and the server takes publishes again by itself once space returns.

The data folder is a small tmpfs mounted for the test (the machine's CI runs as root); a filler file takes part of
it, so that "space returns" is the filler's removal, as an operator would free a disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.receiving import ADMIN, delivered_ids, install_receiving_app
from tests.live_server import live_server
from tests.webhooks.flow import JSON_TYPE, message
from tests.webhooks.receiver import ReceiverThread

FOLDER_MB = 12
FILLER_MB = 4
TEXT = "x" * 40_000  # each notification about 40 KB: the folder fills in a few hundred publishes
MAX_PUBLISHES = 2_000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a filesystem of its own, ``FOLDER_MB`` in all."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={FOLDER_MB}m,mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the disk-full test needs to mount a tmpfs (root): {mounted.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def publish(http: httpx.Client, account: str, index: int) -> httpx.Response:
    document = message(f"conv-{index % 20}", f"{index} {TEXT}")
    return http.post(f"/api/account/{account}/notifications", content=json.dumps(document))


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_full_disk_refuses_publishes_with_503_loses_nothing_acknowledged_and_recovers(
    small_disk: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    ca, cert, key = tls_files
    environment = {
        "APPINSTALL_DEV": "true",
        "APPINSTALL_WEBHOOK_CA_FILE": str(ca),
        "APPINSTALL_WEBHOOK_RETRY_FIRST_DELAY_SECONDS": "0.05",
        "APPINSTALL_WEBHOOK_LEASE_SECONDS": "3",
        "APPINSTALL_WEBHOOK_TIMEOUT_SECONDS": "1",
    }
    account = "disk"
    filler = small_disk / "filler"
    acknowledged: list[str] = []
    refused: list[httpx.Response] = []
    with ReceiverThread(cert, key) as receiver, live_server(small_disk / "data", **environment) as server:
        filler.write_bytes(b"\0" * FILLER_MB * 1024 * 1024)
        install_receiving_app(server.url, account, receiver)
        with httpx.Client(base_url=server.url, headers={**ADMIN, **JSON_TYPE}, timeout=30) as http:
            for index in range(MAX_PUBLISHES):
                response = publish(http, account, index)
                if response.status_code == 202:
                    acknowledged += [d["id"] for d in response.json()["deliveries"]]
                else:
                    refused.append(response)
                    if len(refused) >= 5:
                        break
            assert refused, f"the disk never filled in {MAX_PUBLISHES} publishes"
            filler.unlink()  # space returns
            assert wait_for(lambda: publish(http, account, 0).status_code == 202, 30), "no publish after space returned"
        arrived = wait_for(lambda: set(acknowledged) <= delivered_ids(receiver), 60)
        log = server.stop()
    assert {r.status_code for r in refused} == {503}, [r.text for r in refused]
    assert all(r.json()["type"].endswith("/store-unavailable") for r in refused)
    assert all("disk is full" in r.json()["detail"] for r in refused)
    missing = set(acknowledged) - delivered_ids(receiver)
    assert arrived and not missing, f"{len(missing)} of {len(acknowledged)} never arrived:\n{log[-3000:]}"
    with contextlib.suppress(OSError):
        filler.unlink()
