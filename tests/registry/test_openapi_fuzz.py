"""Schemathesis against the published OpenAPI document, on a live server (SQLite): no request, however odd, makes
the server fail (5xx), and every answer is one the document promises (status code, content type, body schema).

Few examples per operation keep the file near 30 s on a loaded 2-core machine; the schemathesis CLI with more
examples finds the same classes (see ``appinstall/http/openapi.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from appinstall.app import create_app
from appinstall.settings import Settings
from tests.conftest import SEED, TEST_MASTER_KEY
from tests.live_server import OPERATOR_TOKEN, live_server

# Schemathesis makes one pytest item per operation under a single node id, which pytest-xdist cannot schedule (it
# ran one of the 45): these run in the serial pass of `make test`.
pytestmark = pytest.mark.serial

ACCOUNT = "fuzz"
AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
CONTRACT = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(create_app(Settings(master_key=TEST_MASTER_KEY)).openapi())


@dataclass(frozen=True)
class World:
    url: str
    installation_id: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    with live_server(data_dir) as server:
        with httpx.Client(base_url=server.url, headers=AUTH) as client:
            client.post("/api/accounts", json={"id": ACCOUNT}).raise_for_status()
            installed = client.post(f"/api/account/{ACCOUNT}/configuration/app-install/installations", json=SEED)
            installed.raise_for_status()
        yield World(server.url, installed.json()["id"])


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_answer_is_one_the_document_promises(case: schemathesis.Case, world: World) -> None:
    """In the seeded account and, but to delete it, on the seeded installation: past the 404s, to the answers."""
    pinned = {"account_id": ACCOUNT}
    if case.method != "DELETE":
        pinned["installation_id"] = world.installation_id
    if case.path_parameters:
        case.path_parameters = {
            **case.path_parameters,
            **{k: v for k, v in pinned.items() if k in case.path_parameters},
        }
    case.call_and_validate(base_url=world.url, headers=AUTH, timeout=10, checks=CONTRACT)
