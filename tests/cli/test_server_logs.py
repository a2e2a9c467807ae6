"""What `appinstall serve` logs: every line in the chosen format, and no secret the run made in any of them.

One server, a whole connector's life through it (an account, an admin key, an installation, tokens the platform's
way with the secret in the query string and the standard way with Basic, a ConsumerJWS, a conversation through the
Send API, a notification delivered and signed, a wrong secret, a secret rotation), logging JSON; then its log is
searched for each secret, token and signature the run made or saw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEED, TEST_MASTER_KEY
from tests.live_server import OPERATOR_TOKEN, live_server
from tests.webhooks.flow import CONTENT, message
from tests.webhooks.receiver import Receiver, ReceiverThread

ACCOUNT = "123"
INSTALLATIONS = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
SIGNATURE_HEADERS = ("x-liveperson-signature", "webhook-signature")


def a_connectors_life(server: str, receiver: Receiver) -> list[str]:
    """Everything a connector and its operator do, through the server; every secret seen on the way."""
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    seen = [OPERATOR_TOKEN, TEST_MASTER_KEY]
    with httpx.Client(base_url=server, timeout=30) as http:
        http.post("/api/accounts", json={"id": ACCOUNT}, headers=operator).raise_for_status()
        key = http.post(f"/api/accounts/{ACCOUNT}/keys", json={"name": "ci"}, headers=operator).json()["key"]
        admin = {"Authorization": f"Bearer {key}"}
        manifest = json.loads(json.dumps(SEED))
        manifest["capabilities"]["webhooks"][CONTENT] = {
            "endpoint": receiver.url(),
            "headers": [{"header_name": "Authorization", "header_value": "Bearer receiver-credential-1234567"}],
        }
        installed = http.post(INSTALLATIONS, json=manifest, headers=admin).json()
        client_id, secret = installed["client_id"], installed["client_secret"]
        platform = http.post(
            f"/sentinel/api/account/{ACCOUNT}/app/token?v=1.0&grant_type=client_credentials"
            f"&client_id={client_id}&client_secret={secret}"
        )
        standard = http.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
        app_jwt = standard.json()["access_token"]
        consumer = http.post(
            f"/api/account/{ACCOUNT}/consumer", json={"ext_consumer_id": "c1"}, headers={"Authorization": app_jwt}
        ).json()["token"]
        http.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret + "x"))
        http.post(f"/api/account/{ACCOUNT}/notifications", json=message("conv-1", "hello"), headers=admin)
        rotated = http.post(f"{INSTALLATIONS}/{client_id}/secret", headers=admin).json()["client_secret"]
        seen += [key, secret, secret + "x", platform.json()["access_token"], app_jwt, consumer, rotated]
        seen.append("receiver-credential-1234567")
    deadline = time.monotonic() + 20
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.received, "the notification was not delivered"
    for request in receiver.received:
        seen += [request.headers[name] for name in SIGNATURE_HEADERS]
    return seen


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, tls_files: tuple[Path, Path, Path]
) -> Iterator[tuple[str, list[str]]]:
    ca, cert, key = tls_files
    environment = {"APPINSTALL_DEV": "true", "APPINSTALL_WEBHOOK_CA_FILE": str(ca), "APPINSTALL_LOG_FORMAT": "json"}
    with ReceiverThread(cert, key) as receiver:
        with live_server(tmp_path_factory.mktemp("server"), **environment) as server:
            seen = a_connectors_life(server.url, receiver)
            log = server.stop()
        yield log, seen


def test_no_secret_token_or_signature_of_the_run_is_in_the_log(run: tuple[str, list[str]]) -> None:
    log, seen = run
    leaked = [secret[:12] + "…" for secret in seen if secret and secret in log]
    assert not leaked, leaked


def test_every_log_line_after_the_start_is_one_json_object(run: tuple[str, list[str]]) -> None:
    log, _ = run
    lines = [line for line in log.splitlines() if line and not line.startswith("appinstall: ")]
    assert len(lines) > 10
    parsed = [json.loads(line) for line in lines]
    assert all({"event", "level", "logger", "timestamp"} <= set(line) for line in parsed)


def test_each_request_is_a_line_with_its_method_path_and_status_without_the_query(run: tuple[str, list[str]]) -> None:
    log, _ = run
    access = [json.loads(line) for line in log.splitlines() if '"uvicorn.access"' in line]
    token = next(line for line in access if line["path"].startswith("/sentinel/"))
    assert (token["method"], token["status"]) == ("POST", 200)
    assert "?" not in token["path"]
