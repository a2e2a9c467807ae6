"""How fast is the registry API? Requests per second of create, get and list, on SQLite and on PostgreSQL.

A number of requests per second means little on its own: it depends on the machine, on the HTTP stack and on the
load generator as much as on the registry. So each engine's run also measures ``GET /healthz``, the trivial
endpoint of the same app, served by the same process and driven by the same load generator: the ceiling. The
"% of /healthz" column is the share of that ceiling each registry operation keeps, the part that is ours.

For each engine this starts ``appinstall serve`` as a subprocess (uvicorn, one process, so at most one core),
on SQLite in a temporary data directory, then on a fresh PostgreSQL database that is dropped at the end (skipped,
with a line saying so, when PostgreSQL is unreachable). This process is the load generator: 32 asyncio tasks,
each with its own keep-alive connection, sending requests back to back. Each operation gets a 1 s warm-up, then
is timed for ``--seconds`` (5 by default):

* ``GET /healthz``: the ceiling;
* ``POST …/installations``: install the seed manifest under a new ``client_name`` each time;
* ``GET …/installations/{id}``: read back the installations just created, in turn;
* ``GET …/installations?limit=20``: the first page of the account's list.

Registry requests use an admin key of the benchmark's account, as a tenant would (so each one also looks the key
up). Only 2xx answers count as successes; every other answer and every transport error is an error, reported in
its own column (warm-up included), and makes ``--check`` fail, as does any operation below its floor.

Why not ``httpx.AsyncClient`` for the load: on this kind of machine it spends 1.5 ms of CPU per request with one
connection and about 7 ms with a shared pool of 32 (its pool scans every connection for every request), so it
saturated long before the server did and every row measured httpx. The small HTTP/1.1 client below spends about
0.1 ms per request; it speaks only what the server under test answers (``Content-Length`` bodies, keep-alive) and
counts anything else as an error rather than guessing. httpx still does the setup and the readiness checks.

Run ``python bench/registry_api.py``; add ``--check`` to exit 1 on an error or a missed floor (for CI).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "appinstall" / "manifest" / "examples" / "seed.json"
POSTGRES_ADMIN_URL = os.environ.get("APPINSTALL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

CONCURRENCY = 32
WARMUP_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 30.0
LIST_LIMIT = 20
ACCOUNT = "bench"
BASE = f"/api/account/{ACCOUNT}/configuration/app-install/installations"

HEALTHZ = "GET /healthz"
CREATE = "POST create"
GET = "GET by id"
LIST = f"GET list (limit={LIST_LIMIT})"
OPERATIONS = (HEALTHZ, CREATE, GET, LIST)

# Requests per second below which --check fails: about half of what an idle 2-core machine measured (bench/README.md).
FLOORS: dict[tuple[str, str], float] = {
    ("SQLite", HEALTHZ): 1_500,
    ("SQLite", CREATE): 40,
    ("SQLite", GET): 80,
    ("SQLite", LIST): 20,
    ("PostgreSQL", HEALTHZ): 1_300,
    ("PostgreSQL", CREATE): 60,
    ("PostgreSQL", GET): 100,
    ("PostgreSQL", LIST): 30,
}


class ServerStartError(Exception):
    """The server did not start; the message carries what it printed."""


# --- The server under test -----------------------------------------------------------------------------------


@dataclass
class Server:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used so far (user + system), or None where /proc is unavailable."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()  # fields from the 3rd on; utime and stime are the 14th and 15th
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> str:
        """Stop the server and return everything it printed."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(log: Path, environment: dict[str, str]) -> Iterator[Server]:
    """Run ``appinstall serve`` on a free port until the block ends; ready when ``/readyz`` answers 200."""
    port = free_port()
    # Output goes to a file, not a pipe: an unread pipe fills up and then blocks the server mid-request.
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "appinstall", "serve", "--port", str(port)],
            cwd=REPO,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server("127.0.0.1", port, process, log)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{server.url}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise ServerStartError(f"the server did not start:\n{server.stop()}")
        time.sleep(0.1)
    try:
        yield server
    finally:
        server.stop()


def server_environment(data_dir: Path, operator_token: str, database_url: str | None) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("APPINSTALL_")}
    environment |= {
        "APPINSTALL_DATA_DIR": str(data_dir),
        "APPINSTALL_OPERATOR_TOKEN": operator_token,
        "APPINSTALL_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    if database_url is not None:
        environment["APPINSTALL_DATABASE_URL"] = database_url
    return environment


def admin_key(server: Server, operator_token: str) -> str:
    """Create the benchmark's account and an admin key for it, with the operator token."""
    operator = {"Authorization": f"Bearer {operator_token}"}
    with httpx.Client(base_url=server.url, headers=operator) as client:
        client.post("/api/accounts", json={"id": ACCOUNT}).raise_for_status()
        response = client.post(f"/api/accounts/{ACCOUNT}/keys", json={"name": "bench"})
        response.raise_for_status()
        key: str = response.json()["key"]
        return key


# --- A PostgreSQL database of our own ------------------------------------------------------------------------


async def create_database(admin_url: str, name: str) -> str | None:
    """Create database ``name``; return why not (PostgreSQL unreachable, say) or None when it was created."""
    try:
        connection = await asyncpg.connect(admin_url, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        return f"{type(error).__name__}: {error}"
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')  # asyncpg runs it outside a transaction
    finally:
        await connection.close()
    return None


async def drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@contextmanager
def postgres_database(admin_url: str, console: Console) -> Iterator[str | None]:
    """The server's URL of a fresh database, dropped when the block ends; None (said) if PostgreSQL is down."""
    name = f"appinstall_bench_{os.getpid()}"
    failure = asyncio.run(create_database(admin_url, name))
    if failure is not None:
        console.print(f"PostgreSQL at {admin_url} is unreachable ({failure}): benchmarking SQLite only.")
        yield None
        return
    try:
        yield make_url(admin_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)
    finally:
        asyncio.run(drop_database(admin_url, name))


# --- The load generator's HTTP client ------------------------------------------------------------------------


class UnexpectedResponseError(Exception):
    """An answer this minimal client does not read (no Content-Length, say): counted as an error."""


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


class Connection:
    """One keep-alive HTTP/1.1 connection to the server under test, reopened after any failure."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Response:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                return await self._exchange(method, target, headers, body)
        except BaseException:
            self.close()  # the connection's state is unknown: start afresh next time
            raise

    async def _exchange(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.server.host, self.server.port)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.server.host}:{self.server.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        received = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            received[name.strip().lower()] = value.strip()
        if "content-length" in received:
            content = await self.reader.readexactly(int(received["content-length"]))
        elif status in (204, 304):
            content = b""
        else:
            raise UnexpectedResponseError(f"{status} without Content-Length")
        if received.get("connection", "").lower() == "close":
            self.close()
        return Response(status, received, content)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- The load ------------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    engine: str
    operation: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # of the successes completed in the timed window
    errors: Counter[str] = field(default_factory=Counter)  # every failure, warm-up included, by status or error
    server_cpu: float | None = None  # share of one core the server used in the window
    client_cpu: float = 0.0  # share of one core this process (the load generator) used in the window

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


Send = Callable[[Connection, int], Awaitable[Response]]


async def measure(engine: str, operation: str, send: Send, seconds: float, server: Server) -> Measurement:
    """Keep ``CONCURRENCY`` requests in flight for the warm-up plus ``seconds``; time those completed after warm-up.

    Throughput counts the successes that complete inside the timed window, so requests straddling either edge
    neither inflate nor deflate it. Each task sends its next request as soon as the previous one is answered.
    """
    numbers = itertools.count()
    result = Measurement(engine, operation, seconds)
    window_start = time.perf_counter() + WARMUP_SECONDS
    window_end = window_start + seconds

    async def worker() -> None:
        connection = Connection(server)
        try:
            while (started := time.perf_counter()) < window_end:
                try:
                    response = await send(connection, next(numbers))
                    failure = None if response.is_success else str(response.status)
                except (OSError, TimeoutError, asyncio.IncompleteReadError, UnexpectedResponseError) as error:
                    failure = type(error).__name__
                done = time.perf_counter()
                if failure is not None:
                    result.errors[failure] += 1
                elif window_start <= done <= window_end:
                    result.latencies.append(done - started)
        finally:
            connection.close()

    async def sample_cpu() -> None:
        await asyncio.sleep(window_start - time.perf_counter())
        server_before, client_before = server.cpu_seconds(), time.process_time()
        await asyncio.sleep(window_end - time.perf_counter())
        server_after, client_after = server.cpu_seconds(), time.process_time()
        if server_before is not None and server_after is not None:
            result.server_cpu = (server_after - server_before) / seconds
        result.client_cpu = (client_after - client_before) / seconds

    await asyncio.gather(sample_cpu(), *(worker() for _ in range(CONCURRENCY)))
    return result


async def bench_engine(engine: str, server: Server, key: str, seconds: float) -> list[Measurement]:
    """The four operations, one after the other, against one server."""
    seed: dict[str, Any] = json.loads(SEED.read_bytes())
    created: list[str] = []
    headers = {"Authorization": f"Bearer {key}"}
    json_headers = {**headers, "Content-Type": "application/json"}

    async def healthz(connection: Connection, _: int) -> Response:
        return await connection.request("GET", "/healthz", {})

    async def create(connection: Connection, number: int) -> Response:
        body = json.dumps({**seed, "client_name": f"bench {engine} {number}"}).encode()
        response = await connection.request("POST", BASE, json_headers, body)
        if response.status == 201:
            created.append(response.headers["location"].rsplit("/", 1)[1])
        return response

    async def get(connection: Connection, number: int) -> Response:
        return await connection.request("GET", f"{BASE}/{created[number % len(created)]}", headers)

    async def list_page(connection: Connection, _: int) -> Response:
        return await connection.request("GET", f"{BASE}?limit={LIST_LIMIT}", headers)

    results = [
        await measure(engine, HEALTHZ, healthz, seconds, server),
        await measure(engine, CREATE, create, seconds, server),
    ]
    if created:
        results.append(await measure(engine, GET, get, seconds, server))
    else:
        results.append(Measurement(engine, GET, seconds, errors=Counter({"nothing created to read": 1})))
    results.append(await measure(engine, LIST, list_page, seconds, server))
    return results


def run_engine(
    engine: str, work_dir: Path, database_url: str | None, seconds: float, console: Console
) -> list[Measurement]:
    data_dir = work_dir / engine.lower()
    data_dir.mkdir()
    operator_token = f"aio_bench-{secrets.token_hex(16)}"
    environment = server_environment(data_dir, operator_token, database_url)
    log = work_dir / f"{engine.lower()}-server.log"
    status = f"{engine}: {len(OPERATIONS)} operations x ({WARMUP_SECONDS:g} s warm-up + {seconds:g} s)"
    with console.status(status), running_server(log, environment) as server:
        key = admin_key(server, operator_token)
        return uvloop.run(bench_engine(engine, server, key, seconds))


# --- Report --------------------------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def report(measurements: list[Measurement], console: Console) -> list[str]:
    """Print the engine's table; return what fails the check (errors, floors missed)."""
    engine = measurements[0].engine
    ceiling = next(m.requests_per_second for m in measurements if m.operation == HEALTHZ)
    table = Table(title=f"Registry API on {engine}: {CONCURRENCY} concurrent requests, one server process")
    for name in ("engine", "operation", "requests/s", "p50 ms", "p99 ms", "errors", "% of /healthz"):
        table.add_column(name, justify="left" if name in ("engine", "operation") else "right")
    table.add_column("server CPU", justify="right")
    table.add_column("client CPU", justify="right")
    failures = []
    for m in measurements:
        errors = sum(m.errors.values())
        table.add_row(
            m.engine,
            m.operation,
            f"{m.requests_per_second:,.0f}",
            f"{m.percentile_ms(0.50):,.1f}",
            f"{m.percentile_ms(0.99):,.1f}",
            f"[red]{errors}[/red]" if errors else "0",
            _percent(m.requests_per_second / ceiling if ceiling else None),
            _percent(m.server_cpu),
            _percent(m.client_cpu),
        )
        if errors:
            detail = ", ".join(f"{count} x {kind}" for kind, count in m.errors.most_common())
            failures.append(f"{m.engine} {m.operation}: {errors} error(s) ({detail})")
        floor = FLOORS.get((m.engine, m.operation))
        if floor is not None and m.requests_per_second < floor:
            failures.append(
                f"{m.engine} {m.operation}: {m.requests_per_second:,.0f}/s, below the floor of {floor:,.0f}/s"
            )
    console.print(table)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per operation (default 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 on any error or any rate below its floor")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN_URL, help=f"admin URL (default {POSTGRES_ADMIN_URL})")
    arguments = parser.parse_args(argv)
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 120  # not the 80 columns rich assumes for a pipe: the table would wrap
    console.print(
        f"{os.cpu_count()} CPUs. The server is one process (uvicorn, one event loop: at most one core). The load "
        f"generator is this process ({CONCURRENCY} connections, uvloop) and shares the machine with it, and with "
        "PostgreSQL. CPU columns: share of one core used during the timed window."
    )

    failures: list[str] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="appinstall-bench-") as work,
            postgres_database(arguments.postgres, console) as postgres_url,
        ):
            engines: list[tuple[str, str | None]] = [("SQLite", None)]
            if postgres_url is not None:
                engines.append(("PostgreSQL", postgres_url))
            for engine, database_url in engines:
                measurements = run_engine(engine, Path(work), database_url, arguments.seconds, console)
                failures += report(measurements, console)
    except ServerStartError as error:
        console.print(f"FAIL: {error}", markup=False)
        return 1

    if failures:
        console.print(f"FAIL: {len(failures)} problem(s)")
        for failure in failures:
            console.print(f"  {failure}", markup=False, soft_wrap=True)
    else:
        console.print("PASS: no errors, and every operation at or above its floor")
    return 1 if arguments.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
