"""Ten thousand connections opened to the API and left idle: the server stays bounded and answers again.

With the default limits (1,024 connections, 5 s keep-alive), the connections past the cap are answered 503 and
closed at once, the rest are closed once idle for the keep-alive time; meanwhile the server's memory stays bounded,
and afterwards it answers as before, without a restart.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from pathlib import Path

import httpx

from tests.live_server import live_server

CONNECTIONS = 10_000
CLOSE_SECONDS = 30  # the keep-alive time (5 s), plus what 10,000 closes take on a busy machine


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def open_connections(port: int, count: int) -> list[socket.socket]:
    opened = []
    for _ in range(count):
        connection = socket.socket()
        connection.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            connection.connect(("127.0.0.1", port))
        opened.append(connection)
    return opened


def closed_by_the_server(connections: list[socket.socket], seconds: float) -> tuple[int, int]:
    """Wait until the server has closed each connection: (how many it closed, how many were answered 503 first)."""
    selector = selectors.DefaultSelector()
    for connection in connections:
        selector.register(connection, selectors.EVENT_READ)
    closed = refused = 0
    deadline = time.monotonic() + seconds
    while closed < len(connections) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            connection = key.fileobj
            assert isinstance(connection, socket.socket)
            try:
                data = connection.recv(4096)
            except (ConnectionResetError, BlockingIOError):
                data = b""
            if data.startswith(b"HTTP/1.1 503"):
                refused += 1
                data = b""
            if not data:
                selector.unregister(connection)
                closed += 1
    selector.close()
    return closed, refused


def test_ten_thousand_idle_connections_are_bounded_and_the_server_answers_afterwards(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as server:
        port = int(server.url.rsplit(":", 1)[1])
        before = rss_mb(server.process.pid)
        connections = open_connections(port, CONNECTIONS)
        try:
            time.sleep(2)
            during = rss_mb(server.process.pid)
            closed, refused = closed_by_the_server(connections, CLOSE_SECONDS)
        finally:
            for connection in connections:
                connection.close()
        after = httpx.get(f"{server.url}/healthz", timeout=10)
    assert closed == CONNECTIONS, f"only {closed} of {CONNECTIONS} closed by the server in {CLOSE_SECONDS} s"
    assert refused >= CONNECTIONS - 1024 - 50  # past the cap: answered 503 (a few may still be in the backlog)
    assert during - before < 150, f"the server grew from {before:.0f} MB to {during:.0f} MB"
    assert after.status_code == 200
