"""``appinstall trigger`` against a real development server, delivering to the real ``appinstall listen``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from appinstall.cli import app
from appinstall.manifest.vocabulary import EVENT_TYPES, short_event_name
from tests.cli.listener import listening
from tests.conftest import SEED
from tests.live_server import OPERATOR_TOKEN, free_port, live_server

BASE = "/api/account/{account}/configuration/app-install/installations"
CONTENT = "ms.MessagingEventNotification.ContentEvent"
CHAT_STATE = "ms.MessagingEventNotification.ChatStateEvent"
UNUSED_ENDPOINT = "http://127.0.0.1:9/hook"  # nothing listens: deliveries fail, which these tests do not read
runner = CliRunner()

# "ContentEvent, RichContentEvent, …": every event type, as the error lists them
SHORT_NAMES = ", ".join(short_event_name(name) for name in EVENT_TYPES)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A development server (webhooks may go to plain http on this machine) for the module's tests."""
    with live_server(tmp_path_factory.mktemp("server"), APPINSTALL_DEV="true") as running:
        yield running.url


@dataclass(frozen=True)
class Account:
    server: str
    id: str

    @property
    def env(self) -> dict[str, str]:
        return {"APPINSTALL_SERVER": self.server, "APPINSTALL_ACCOUNT": self.id, "APPINSTALL_KEY": OPERATOR_TOKEN}

    def install(self, endpoint: str = UNUSED_ENDPOINT, event_type: str = CONTENT) -> dict[str, Any]:
        manifest = json.loads(json.dumps(SEED))
        manifest["client_name"] = f"app-{uuid.uuid4().hex[:8]}"
        manifest["capabilities"]["webhooks"] = {event_type: {"endpoint": endpoint}}
        response = httpx.post(
            f"{self.server}{BASE.format(account=self.id)}",
            json=manifest,
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
        assert response.status_code == 201, response.text
        installed: dict[str, Any] = response.json()
        return installed

    def trigger(self, *args: str) -> Result:
        return runner.invoke(app, ["trigger", *args], env=self.env)

    def triggered(self, *args: str) -> list[dict[str, Any]]:
        """The deliveries a successful trigger created, as its JSON output lists them."""
        result = self.trigger(*args, "--format", "json")
        assert result.exit_code == 0, result.output
        created: list[dict[str, Any]] = json.loads(result.stdout)
        return created


@pytest.fixture
def account(server: str) -> Account:
    identifier = f"trg{uuid.uuid4().hex[:8]}"
    response = httpx.post(
        f"{server}/api/accounts", json={"id": identifier}, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    assert response.status_code == 201
    return Account(server, identifier)


def test_the_triggered_text_reaches_the_listener_verified(account: Account, tmp_path: Path) -> None:
    port = free_port()
    installed = account.install(f"http://127.0.0.1:{port}/hook")
    with listening(tmp_path, "--path", "/hook", "--secret", installed["client_secret"], port=port) as running:
        [delivery] = account.triggered("ContentEvent", "--text", "where is my order?")
        printed = running.wait_for(delivery["id"], timeout=20)
    assert f"{delivery['id']} #1 200 ContentEvent" in printed
    assert '"where is my order?"' in printed


def test_it_prints_each_created_delivery_and_a_summary(account: Account) -> None:
    installed = account.install()
    result = account.trigger("ContentEvent")
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    delivery_id, status, _, installation_id = line.split()
    assert delivery_id.startswith("msg_") and (status, installation_id) == ("pending", installed["id"])
    assert result.stderr.startswith("published a ContentEvent in conversation ")


def test_the_full_event_type_name_is_taken_too(account: Account) -> None:
    account.install(event_type=CHAT_STATE)
    [delivery] = account.triggered(CHAT_STATE)
    assert delivery["event_type"] == CHAT_STATE


def test_each_trigger_is_in_a_new_conversation_unless_one_is_given(account: Account) -> None:
    account.install()
    first, second = account.triggered("ContentEvent"), account.triggered("ContentEvent")
    assert first[0]["conversation_id"] != second[0]["conversation_id"]
    assert account.triggered("ContentEvent", "--conversation", "conv-7")[0]["conversation_id"] == "conv-7"


def test_with_an_installation_only_it_gets_a_delivery(account: Account) -> None:
    account.install()
    chosen = account.install()
    assert [d["installation_id"] for d in account.triggered("ContentEvent", "--installation", chosen["id"])] == [
        chosen["id"]
    ]


def test_an_installation_may_be_named_by_its_client_name(account: Account) -> None:
    account.install()
    chosen = account.install()
    created = account.triggered("ContentEvent", "--installation", chosen["client_name"])
    assert [d["installation_id"] for d in created] == [chosen["id"]]


def test_an_installation_not_in_the_account_is_a_one_line_error(account: Account) -> None:
    result = account.trigger("ContentEvent", "--installation", "no-such-app")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: no installation of account {account.id} is named 'no-such-app'; "
        "give its id, client_id or client_name (see 'appinstall installations list')\n"
    )


def test_an_installation_id_not_in_the_account_is_the_servers_404(account: Account) -> None:
    result = account.trigger("ContentEvent", "--installation", "00000000-0000-4000-8000-000000000000")
    assert result.exit_code == 1
    assert result.stderr.endswith("(HTTP 404)\n")


def test_when_nobody_subscribes_it_says_so_and_fails(account: Account) -> None:
    account.install(event_type=CHAT_STATE)
    result = account.trigger("ContentEvent")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: no delivery: no enabled installation of account {account.id} subscribes")


def test_an_unknown_event_type_is_a_one_line_error_that_lists_the_event_types(account: Account) -> None:
    result = account.trigger("HologramEvent")
    assert result.exit_code == 2
    assert result.stderr == f"error: 'HologramEvent' is not an event type; use one of {SHORT_NAMES}\n"


def test_text_for_an_event_without_text_is_a_one_line_error(account: Account) -> None:
    result = account.trigger("ChatStateEvent", "--text", "hi")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --text is for ContentEvent")
