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
BURST = 250
BURST_PAUSE_SECONDS = 0.05
CLOSE_SECONDS = 30  # the keep-alive time (5 s), plus what 10,000 closes take on a busy machine


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def open_connections(port: int, count: int) -> list[socket.socket]:
    """``count`` connections, opened in bursts of ``BURST``: a flood faster than that overflows the kernel's accept
    queue, whose dropped handshakes never reach the server (the kernel bounds those, not appinstall)."""
    opened = []
    for number in range(count):
        if number and number % BURST == 0:
            time.sleep(BURST_PAUSE_SECONDS)
        connection = socket.socket()
        connection.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            connection.connect(("127.0.0.1", port))
        opened.append(connection)
    return opened


def never_connected(connection: socket.socket) -> bool:
    """A connection whose handshake never completed: the kernel dropped its SYN (the listen backlog was full), so it
    holds nothing of the server's."""
    try:
        connection.getpeername()
    except OSError:
        return True
    return False


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
            dropped = sum(never_connected(connection) for connection in connections)
        finally:
            for connection in connections:
                connection.close()
        after = httpx.get(f"{server.url}/healthz", timeout=10)
    # Every connection the server accepted is closed by it in time; those the kernel never let through are its own.
    assert closed + dropped >= CONNECTIONS, (
        f"{CONNECTIONS - closed - dropped} connections still open after {CLOSE_SECONDS} s"
    )
    assert refused >= CONNECTIONS - dropped - 1024 - 50  # past the cap: answered 503
    assert during - before < 150, f"the server grew from {before:.0f} MB to {during:.0f} MB"
    assert after.status_code == 200
