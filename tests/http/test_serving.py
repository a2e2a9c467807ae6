"""``appinstall serve`` bounds its connections: header size and count, idle and slow clients, open connections.

Each test talks raw HTTP/1.1 over sockets to a real server process on 127.0.0.1, started once for the module with
small limits so that the timeouts pass in about a second.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer, live_server

MAX_HEADER_BYTES = 4096
MAX_HEADERS = 20
KEEP_ALIVE = 1
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
MAX_CONNECTIONS = 40

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("serving"),
        "--no-worker",
        APPINSTALL_HTTP_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
        APPINSTALL_HTTP_MAX_HEADERS=str(MAX_HEADERS),
        APPINSTALL_HTTP_KEEP_ALIVE_SECONDS=str(KEEP_ALIVE),
        APPINSTALL_HTTP_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        APPINSTALL_HTTP_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        APPINSTALL_HTTP_MAX_CONNECTIONS=str(MAX_CONNECTIONS),
    ) as running:
        yield running


def _connect(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=10)
    return connection


def _read_until_closed(connection: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection (an assertion error if it does not in time)."""
    connection.settimeout(timeout)
    received = b""
    try:
        while chunk := connection.recv(65_536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise AssertionError(f"the server kept the connection open; it sent {received[:200]!r}") from None
    return received


def _read_response(connection: socket.socket) -> bytes:
    """One whole response (the server keeps the connection open after it)."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65_536)
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length"))
    while len(body) < length:
        body += connection.recv(65_536)
    return received


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _problem(response: bytes) -> dict[str, object]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    problem: dict[str, object] = json.loads(body)
    return problem


def _request(extra_headers: bytes = b"") -> bytes:
    return b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n" + extra_headers + b"\r\n"


def _healthy(server: LiveServer) -> bool:
    return httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200


def _padded_request(total: int) -> bytes:
    """A request whose request line and headers are exactly ``total`` bytes."""
    bare = _request(b"x-pad: \r\n")
    return _request(b"x-pad: " + b"a" * (total - len(bare)) + b"\r\n")


def test_headers_of_exactly_the_limit_are_served(server: LiveServer) -> None:
    request = _padded_request(MAX_HEADER_BYTES)
    assert len(request) == MAX_HEADER_BYTES
    with _connect(server) as connection:
        connection.sendall(request)
        assert connection.recv(65_536).startswith(b"HTTP/1.1 200")


def test_headers_one_byte_over_the_limit_are_refused_with_431(server: LiveServer) -> None:
    with _connect(server) as connection:
        connection.sendall(_padded_request(MAX_HEADER_BYTES + 1))
        response = _read_until_closed(connection)
    assert _status(response) == 431
    assert "APPINSTALL_HTTP_MAX_HEADER_BYTES" in str(_problem(response)["detail"])


def test_an_end_of_headers_split_across_two_reads_is_found(server: LiveServer) -> None:
    request = _padded_request(MAX_HEADER_BYTES)
    with _connect(server) as connection:
        connection.sendall(request[:-3])
        time.sleep(0.2)
        connection.sendall(request[-3:])
        assert connection.recv(65_536).startswith(b"HTTP/1.1 200")


def test_an_unfinished_30_mb_header_is_cut_off_without_the_server_growing(server: LiveServer) -> None:
    before = _resident_kib(server)
    refused = 0
    for _ in range(3):
        with _connect(server) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nx-big: ")
            try:
                for _ in range(30 * 16):  # 30 MB in 64 KiB writes, never ending the header
                    connection.sendall(b"a" * 65_536)
            except (BrokenPipeError, ConnectionResetError):
                refused += 1
    assert refused == 3
    assert _resident_kib(server) - before < 20_000
    assert _healthy(server)


def test_more_headers_than_the_limit_are_refused_with_431(server: LiveServer) -> None:
    headers = b"".join(b"x-h%d: v\r\n" % number for number in range(MAX_HEADERS))  # with host, one too many
    with _connect(server) as connection:
        connection.sendall(_request(headers))
        response = _read_until_closed(connection)
    assert _status(response) == 431
    assert "APPINSTALL_HTTP_MAX_HEADERS" in str(_problem(response)["detail"])


def test_the_most_headers_allowed_are_served(server: LiveServer) -> None:
    headers = b"".join(b"x-h%d: v\r\n" % number for number in range(MAX_HEADERS - 1))
    with _connect(server) as connection:
        connection.sendall(_request(headers))
        assert connection.recv(65_536).startswith(b"HTTP/1.1 200")


def test_headers_sent_a_byte_at_a_time_are_cut_off_with_408_while_the_server_answers_others(
    server: LiveServer,
) -> None:
    started = time.monotonic()
    with _connect(server) as connection:
        connection.setblocking(False)
        request = _request(b"x-slow: " + b"a" * 100 + b"\r\n")
        sent = 0
        while time.monotonic() - started < HEADER_TIMEOUT + 3:
            try:
                sent += connection.send(request[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            assert _healthy(server)
            time.sleep(0.05)
            try:
                if connection.recv(65_536, socket.MSG_PEEK):
                    break
            except BlockingIOError:
                pass
        response = _read_until_closed(connection)
    assert _status(response) == 408
    assert "APPINSTALL_HTTP_HEADER_TIMEOUT_SECONDS" in str(_problem(response)["detail"])
    assert time.monotonic() - started < HEADER_TIMEOUT + 2


def test_a_connection_that_never_sends_is_closed_after_the_keep_alive_time(server: LiveServer) -> None:
    started = time.monotonic()
    with _connect(server) as connection:
        assert _read_until_closed(connection) == b""
    assert KEEP_ALIVE - 0.1 <= time.monotonic() - started < KEEP_ALIVE + 2


def test_an_idle_connection_between_requests_is_closed_after_the_keep_alive_time(server: LiveServer) -> None:
    with _connect(server) as connection:
        connection.sendall(_request())
        assert _status(_read_response(connection)) == 200
        started = time.monotonic()
        assert _read_until_closed(connection) == b""
    assert time.monotonic() - started < KEEP_ALIVE + 2


def test_a_body_that_does_not_arrive_in_time_closes_the_connection(server: LiveServer) -> None:
    started = time.monotonic()
    with _connect(server) as connection:
        connection.sendall(
            b"POST /oauth2/token HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\n"
            b"content-length: 100\r\n\r\ngrant_type="
        )
        _read_until_closed(connection)
    assert time.monotonic() - started < BODY_TIMEOUT + 2


def test_a_connection_over_the_limit_is_answered_503_and_the_server_recovers(server: LiveServer) -> None:
    held = [_connect(server) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)
        with _connect(server) as extra:
            response = _read_until_closed(extra)
        assert _status(response) == 503
        assert b"retry-after: 1" in response.lower()
    finally:
        for connection in held:
            connection.close()
    deadline = time.monotonic() + 5
    while not _healthy_or_refused(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _healthy(server)


def test_many_idle_and_trickling_connections_are_all_closed_within_the_timeouts(server: LiveServer) -> None:
    idle = [_connect(server) for _ in range(MAX_CONNECTIONS // 2)]
    trickling = [_connect(server) for _ in range(MAX_CONNECTIONS // 2 - 2)]
    for connection in trickling:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nx-")
    started = time.monotonic()
    assert _healthy(server)
    for connection in idle + trickling:
        _read_until_closed(connection, timeout=max(HEADER_TIMEOUT, KEEP_ALIVE) + 3 - (time.monotonic() - started))
        connection.close()
    assert time.monotonic() - started < max(HEADER_TIMEOUT, KEEP_ALIVE) + 3


def _healthy_or_refused(server: LiveServer) -> bool:
    try:
        return _healthy(server)
    except httpx.HTTPError:
        return False


def _resident_kib(server: LiveServer) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
