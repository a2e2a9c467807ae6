"""Tokens per second on the platform's Sentinel path, beside ``/healthz`` of the same server, in one run.

One ``appinstall serve`` process on SQLite per signing algorithm (RS256, the default, and ES256), 32 keep-alive
connections from this process. Rows: ``/healthz`` (the ceiling of the same app), an AppJWT by client credentials
(the client secret is checked, the token signed), and a ConsumerJWS (an AppJWT verified, a token signed). The
issue's target is 1,000 AppJWTs per second per core; the server is one process, so one core at most.
The load generator, server launcher and report columns come from ``registry_api.py`` beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import httpx
import uvloop
from registry_api import (
    CONCURRENCY,
    SEED,
    Connection,
    Measurement,
    Response,
    Server,
    measure,
    running_server,
    server_environment,
)
from rich.console import Console
from rich.table import Table

ACCOUNT = "bench"
TARGET_PER_SECOND = 1_000


def _install(server: Server, operator_token: str) -> tuple[str, str]:
    operator = {"Authorization": f"Bearer {operator_token}"}
    with httpx.Client(base_url=server.url, headers=operator) as client:
        client.post("/api/accounts", json={"id": ACCOUNT}).raise_for_status()
        response = client.post(
            f"/api/account/{ACCOUNT}/configuration/app-install/installations", json=json.loads(SEED.read_bytes())
        )
        response.raise_for_status()
        return response.json()["client_id"], response.json()["client_secret"]


async def _bench(algorithm: str, server: Server, client_id: str, secret: str, seconds: float) -> list[Measurement]:
    form = urlencode({"client_id": client_id, "client_secret": secret}).encode()
    token_path = f"/sentinel/api/account/{ACCOUNT}/app/token?v=1.0&grant_type=client_credentials"
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=server.url) as client:
        app_jwt = (await client.post(token_path, content=form, headers=form_headers)).json()["access_token"]
    consumer_body = json.dumps({"ext_consumer_id": "bench-consumer"}).encode()
    consumer_headers = {"Authorization": app_jwt, "Content-Type": "application/json"}

    async def healthz(connection: Connection, _: int) -> Response:
        return await connection.request("GET", "/healthz", {})

    async def app_token(connection: Connection, _: int) -> Response:
        return await connection.request("POST", token_path, form_headers, form)

    async def consumer_token(connection: Connection, _: int) -> Response:
        return await connection.request("POST", f"/api/account/{ACCOUNT}/consumer", consumer_headers, consumer_body)

    return [
        await measure(algorithm, "GET /healthz", healthz, seconds, server),
        await measure(algorithm, "POST AppJWT (Sentinel)", app_token, seconds, server),
        await measure(algorithm, "POST ConsumerJWS", consumer_token, seconds, server),
    ]


def _per_core(measurement: Measurement) -> float:
    """Requests per second of one whole core: the rate over the share of a core the server had."""
    share = measurement.server_cpu
    return measurement.requests_per_second / share if share else measurement.requests_per_second


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per operation (default 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 on errors or AppJWTs below the target")
    arguments = parser.parse_args(argv)
    console = Console(highlight=False, width=120)
    console.print(f"{os.cpu_count()} CPUs; one server process on SQLite; {CONCURRENCY} connections from this process.")
    table = Table(title="Tokens per second")
    columns = ("requests/s", "per core", "p50 ms", "p99 ms", "errors", "% of /healthz", "server CPU")
    for name in ("algorithm", "operation", *columns):
        table.add_column(name, justify="left" if name in ("algorithm", "operation") else "right")
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="appinstall-bench-tokens-") as work:
        for algorithm in ("RS256", "ES256"):
            data_dir = Path(work) / algorithm
            data_dir.mkdir()
            operator_token = f"aio_bench-{secrets.token_hex(16)}"
            environment = server_environment(data_dir, operator_token, None)
            environment["APPINSTALL_SIGNING_ALGORITHM"] = algorithm
            with running_server(Path(work) / f"{algorithm}.log", environment) as server:
                client_id, secret = _install(server, operator_token)
                results = uvloop.run(_bench(algorithm, server, client_id, secret, arguments.seconds))
            ceiling = results[0].requests_per_second
            for m in results:
                errors = sum(m.errors.values())
                table.add_row(
                    m.engine,
                    m.operation,
                    f"{m.requests_per_second:,.0f}",
                    f"{_per_core(m):,.0f}",
                    f"{m.percentile_ms(0.5):,.1f}",
                    f"{m.percentile_ms(0.99):,.1f}",
                    str(errors),
                    f"{m.requests_per_second / ceiling:.0%}" if ceiling else "n/a",
                    "n/a" if m.server_cpu is None else f"{m.server_cpu:.0%}",
                )
                if errors:
                    failures.append(f"{m.engine} {m.operation}: {errors} error(s): {dict(m.errors)}")
            app_jwt_rate = results[1].requests_per_second
            if app_jwt_rate < TARGET_PER_SECOND:
                failures.append(
                    f"{algorithm}: {app_jwt_rate:,.0f} AppJWTs/s from one process, below the target of "
                    f"{TARGET_PER_SECOND:,}/s"
                )
    console.print(table)
    for failure in failures:
        console.print(f"FAIL: {failure}", markup=False)
    if not failures:
        console.print(f"PASS: no errors; AppJWTs at or above {TARGET_PER_SECOND:,}/s from one process")
    return 1 if arguments.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
