"""The reference pages' examples run as written: authentication, the HTTP API, webhooks.

Each page says which shell variables its examples assume (``HOST``, ``KEY``, ``CLIENT_ID``…); the test starts a
real server, makes what a reader would already have (account 123, an admin key, an installation with a failed
delivery), exports those variables, and runs the page's shell blocks in order in one bash session, every curl
failing on an HTTP error status. The webhooks page then starts a server and a receiver of its own, as its
"Testing locally" section tells the reader.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.docs.page_session import ROOT, background_output, page_session, reader_clone, report
from tests.live_server import OPERATOR_TOKEN, free_port, live_server
from tests.webhooks.flow import message

DOCS = ROOT / "docs"
SEED = ROOT / "appinstall" / "manifest" / "examples" / "seed.json"
ACCOUNT = "123"
EXAMPLE_DELIVERY = "msg_5f0c3d9e8a7b4c2d9e1f0a6b3c8d7e2f"  # the id the webhooks page shows in its examples
CONTENT = "ms.MessagingEventNotification.ContentEvent"


@dataclass(frozen=True)
class Reader:
    """What a reader of the reference pages has by the time they read them, on a running server."""

    host: str
    key: str
    installation: dict[str, str]
    app_jwt: str
    failed_delivery: str

    def exported(self) -> dict[str, str]:
        installation_id = self.installation["id"]
        return {
            "HOST": self.host,
            "KEY": self.key,
            "ACCOUNT": ACCOUNT,
            "ID": installation_id,
            "CLIENT_ID": self.installation["client_id"],
            "CLIENT_SECRET": self.installation["client_secret"],
            "APP_JWT": self.app_jwt,
            "APPINSTALL_SERVER": self.host,
            "APPINSTALL_ACCOUNT": ACCOUNT,
            "APPINSTALL_KEY": self.key,
        }


def a_failed_delivery(api: httpx.Client, installation_id: str) -> str:
    """Publish one message to the account and wait until its only attempt has failed (nothing listens)."""
    notification = message("5491244f-4b2c-4b8a-9d47-1e9b3c1f2a7e", "hello")
    published = api.post(f"/api/account/{ACCOUNT}/notifications", json=notification)
    assert published.status_code == 202, published.text
    delivery_id: str = published.json()["deliveries"][0]["id"]
    path = f"/api/account/{ACCOUNT}/configuration/app-install/installations/{installation_id}/deliveries/{delivery_id}"
    deadline = time.monotonic() + 20
    while (status := api.get(path).json()["status"]) != "failed":
        assert time.monotonic() < deadline, f"the delivery is still {status}"
        time.sleep(0.2)
    return delivery_id


def prepared(host: str) -> Reader:
    with httpx.Client(base_url=host, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=10) as api:
        assert api.post("/api/accounts", json={"id": ACCOUNT}).status_code == 201
        key = api.post(f"/api/accounts/{ACCOUNT}/keys", json={"name": "docs"}).json()["key"]
        manifest = json.loads(SEED.read_text())
        manifest["client_name"] = "My connector"
        nobody = f"http://127.0.0.1:{free_port()}/hook"
        manifest["capabilities"]["webhooks"] = {CONTENT: {"endpoint": nobody, "max_retries": 0}}
        installed = api.post(f"/api/account/{ACCOUNT}/configuration/app-install/installations", json=manifest)
        assert installed.status_code == 201, installed.text
        installation = installed.json()
        token = api.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(installation["client_id"], installation["client_secret"]),
            headers={"Authorization": ""},
        )
        assert token.status_code == 200, token.text
        failed = a_failed_delivery(api, installation["id"])
    return Reader(host, key, installation, token.json()["access_token"], failed)


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    with live_server(tmp_path_factory.mktemp("server"), "--dev") as server:
        yield prepared(server.url)


@contextmanager
def reading(page: Path, reader: Reader, work: Path) -> Iterator[tuple[int, str]]:
    """The page's blocks run in ``work`` as ``reader`` would (with the page's manifest.json); what they still run
    in the background is stopped when the block ends."""
    shutil.copy(SEED, work / "manifest.json")
    with page_session(
        page,
        work,
        exported=reader.exported(),
        replacing={EXAMPLE_DELIVERY: reader.failed_delivery},
        strict_curl=True,
    ) as finished:
        yield finished


@pytest.mark.parametrize("name", ["authentication.md", "http-api.md"])
def test_every_block_of_the_page_runs_as_written(reader: Reader, tmp_path: Path, name: str) -> None:
    page = DOCS / name
    work = reader_clone(tmp_path)
    with reading(page, reader, work) as (code, output):
        assert code == 0, report(page, work, code, output)


@pytest.fixture(scope="module")
def webhooks_run(reader: Reader, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, str]]:
    """The webhooks page runs once, its local server and receiver kept running for the tests that look at them."""
    page = DOCS / "webhooks.md"
    work = reader_clone(tmp_path_factory.mktemp("clone"))
    with reading(page, reader, work) as (code, output):
        yield work, code, output


def test_every_block_of_the_webhooks_page_runs_as_written(webhooks_run: tuple[Path, int, str]) -> None:
    work, code, output = webhooks_run
    assert code == 0, report(DOCS / "webhooks.md", work, code, output)


@pytest.mark.parametrize(
    "printed",
    ['#1 200 ContentEvent       conv-1 CONSUMER       "Hello from Consumer"', "ChatStateEvent", "UPSERT"],
)
def test_the_webhooks_pages_local_receiver_hears_what_the_page_publishes(
    webhooks_run: tuple[Path, int, str], printed: str
) -> None:
    work, code, _ = webhooks_run
    if code != 0:
        pytest.fail("the page did not run to the end: see test_every_block_of_the_webhooks_page_runs_as_written")
    assert printed in background_output(DOCS / "webhooks.md", work, "appinstall listen --port", printed)
