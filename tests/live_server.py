"""Starting ``appinstall serve`` as a real process on a free port, for tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_MASTER_KEY

OPERATOR_TOKEN = "aio_live-server-test"


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> str:
        """Stop the server and return everything it printed."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=15)
        return self.log.read_text()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def live_server(data_dir: Path, *arguments: str, **environment: str) -> Iterator[LiveServer]:
    """Run a server on SQLite in ``data_dir`` until the block ends; ready when ``/readyz`` answers 200.

    ``arguments`` are added to ``appinstall serve --port P``."""
    port = free_port()
    env = {
        **os.environ,
        "APPINSTALL_DATA_DIR": str(data_dir),
        "APPINSTALL_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "APPINSTALL_MASTER_KEY": TEST_MASTER_KEY,
        **environment,
    }
    if "APPINSTALL_DATABASE_URL" not in environment:
        env.pop("APPINSTALL_DATABASE_URL", None)
    # Output goes to a file, not a pipe: an unread pipe fills up and then blocks the server mid-request.
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "appinstall", "serve", "--port", str(port), *arguments],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{server.url}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise AssertionError(f"the server did not start:\n{server.stop()}")
        time.sleep(0.1)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def worker_process(data_dir: Path, **environment: str) -> Iterator[LiveServer]:
    """Run ``appinstall worker`` until the block ends; ready when it says it is running."""
    env = {**os.environ, "APPINSTALL_MASTER_KEY": TEST_MASTER_KEY, **environment}
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "appinstall", "worker"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    worker = LiveServer("", process, log)
    deadline = time.monotonic() + 30
    while "running" not in log.read_text():
        if time.monotonic() > deadline or process.poll() is not None:
            raise AssertionError(f"the worker did not start:\n{worker.stop()}")
        time.sleep(0.1)
    try:
        yield worker
    finally:
        worker.stop()
