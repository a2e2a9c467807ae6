"""Schemathesis against the published OpenAPI document: no request, however odd, makes the server fail (5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from appinstall.app import create_app
from appinstall.settings import Settings
from tests.conftest import SEED, TEST_MASTER_KEY
from tests.live_server import OPERATOR_TOKEN, live_server

ACCOUNT = "fuzz"
AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

schema = schemathesis.openapi.from_dict(create_app(Settings(master_key=TEST_MASTER_KEY)).openapi())


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    with live_server(data_dir) as server:
        with httpx.Client(base_url=server.url, headers=AUTH) as client:
            client.post("/api/accounts", json={"id": ACCOUNT}).raise_for_status()
            client.post(f"/api/account/{ACCOUNT}/configuration/app-install/installations", json=SEED)
        yield server.url


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_server_fail(case: schemathesis.Case, server_url: str) -> None:
    if "account_id" in (case.path_parameters or {}):
        case.path_parameters = {**(case.path_parameters or {}), "account_id": ACCOUNT}
    response = case.call(base_url=server_url, headers=AUTH, timeout=10)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
