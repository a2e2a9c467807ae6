"""``appinstall publish FILE`` against a real development server: batches, their answers, their refusals."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from appinstall.cli import app
from tests.conftest import SEED
from tests.live_server import OPERATOR_TOKEN, live_server
from tests.webhooks.flow import message

BASE = "/api/account/{account}/configuration/app-install/installations"
CONTENT = "ms.MessagingEventNotification.ContentEvent"
UNUSED_ENDPOINT = "http://127.0.0.1:9/hook"  # nothing listens: deliveries fail, which these tests do not read
ADMIN = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
runner = CliRunner()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("server"), APPINSTALL_DEV="true") as running:
        yield running.url


@pytest.fixture
def account(server: str) -> str:
    """A new account with one installation subscribed to ContentEvent."""
    identifier = f"pub{uuid.uuid4().hex[:8]}"
    assert httpx.post(f"{server}/api/accounts", json={"id": identifier}, headers=ADMIN).status_code == 201
    manifest = json.loads(json.dumps(SEED))
    manifest["capabilities"]["webhooks"] = {CONTENT: {"endpoint": UNUSED_ENDPOINT}}
    response = httpx.post(f"{server}{BASE.format(account=identifier)}", json=manifest, headers=ADMIN)
    assert response.status_code == 201, response.text
    return identifier


def publish(server: str, account: str, file: Path | str, *options: str, stdin: str | None = None) -> Result:
    env = {"APPINSTALL_SERVER": server, "APPINSTALL_ACCOUNT": account, "APPINSTALL_KEY": OPERATOR_TOKEN}
    return runner.invoke(app, ["publish", str(file), *options], env=env, input=stdin)


def deliveries_of(server: str, account: str) -> list[dict[str, Any]]:
    [installation] = httpx.get(f"{server}{BASE.format(account=account)}", headers=ADMIN).json()
    url = f"{server}{BASE.format(account=account)}/{installation['id']}/deliveries"
    items: list[dict[str, Any]] = httpx.get(url, headers=ADMIN, params={"limit": 200}).json()["items"]
    return items


def array_file(tmp_path: Path, documents: list[Any]) -> Path:
    path = tmp_path / "notifications.json"
    path.write_text(json.dumps(documents))
    return path


def test_a_json_array_is_published_with_one_line_per_delivery(server: str, account: str, tmp_path: Path) -> None:
    result = publish(server, account, array_file(tmp_path, [message(f"c{i}", "hi") for i in range(3)]))
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["0", "1", "2"]
    assert result.stderr == "published 3 notifications in 1 batch: 3 deliveries\n"


def test_json_lines_from_standard_input_are_published(server: str, account: str) -> None:
    lines = "\n".join(json.dumps(message(f"c{i}", "hi")) for i in range(2)) + "\n\n"
    result = publish(server, account, "-", stdin=lines)
    assert result.exit_code == 0, result.output
    assert len(deliveries_of(server, account)) == 2


def test_more_notifications_than_a_batch_go_in_several_batches_in_order(
    server: str, account: str, tmp_path: Path
) -> None:
    file = array_file(tmp_path, [message(f"c{i}", "hi") for i in range(5)])
    result = publish(server, account, file, "--batch-size", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    answered = json.loads(result.stdout)["notifications"]
    assert [n["deliveries"][0]["conversation_id"] for n in answered] == [f"c{i}" for i in range(5)]
    assert result.stderr == "published 5 notifications in 3 batches: 5 deliveries\n"


def test_a_bad_notification_anywhere_publishes_nothing_and_names_each_problem(
    server: str, account: str, tmp_path: Path
) -> None:
    documents = [message("c0", "hi"), {"kind": "notification"}, message("c2", "hi")]
    result = publish(server, account, array_file(tmp_path, documents), "--batch-size", "1")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'notifications.json'}: some notifications are not in the platform's envelope; "
        "none was published",
        "  notification 1 at /type: must be ms.MessagingEventNotification or cqm.ExConversationChangeNotification",
        "  notification 1 at /body/changes: must be a non-empty array of changes",
    ]
    assert deliveries_of(server, account) == []


def test_a_problem_in_json_lines_names_the_line(server: str, account: str) -> None:
    stdin = json.dumps(message("c0", "hi")) + "\n\n" + json.dumps({"kind": "notification", "type": "x"}) + "\n"
    result = publish(server, account, "-", stdin=stdin)
    assert result.exit_code == 1
    assert "  notification 1 (line 3) at /type: " in result.stderr


def test_a_batch_the_server_refuses_says_which_notifications_went_in(server: str, account: str, tmp_path: Path) -> None:
    documents = [message(f"c{i}", "hi") for i in range(3)] + [message("c" * 101, "hi")]
    result = publish(server, account, array_file(tmp_path, documents), "--batch-size", "2")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: 1 of the 2 notifications is not in the platform's envelope; none was published (HTTP 400)",
        "  notification 3 at /body/changes: conversation ids are at most 100 characters; one of these changes has 101",
        "notifications 0 to 1 were published, none from 2 on",
    ]
    assert len(deliveries_of(server, account)) == 2


def test_a_file_that_is_not_json_is_one_line_per_problem(server: str, account: str, tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"kind": \n')
    result = publish(server, account, path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path} is neither a JSON array nor JSON lines")
    assert f"  {path}:1: " in result.stderr
    assert "Traceback" not in result.output


def test_an_empty_file_is_an_error(server: str, account: str, tmp_path: Path) -> None:
    result = publish(server, account, array_file(tmp_path, []))
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'notifications.json'} holds no notification\n"


def test_a_batch_size_over_the_servers_limit_is_a_usage_error(server: str, account: str, tmp_path: Path) -> None:
    result = publish(server, account, array_file(tmp_path, [message("c0", "hi")]), "--batch-size", "1001")
    assert result.exit_code == 2
