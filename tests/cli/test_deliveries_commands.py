"""``appinstall deliveries list/retry/recover`` against a real server that delivers to a real receiver."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from appinstall.cli import app
from tests.conftest import SEED
from tests.live_server import OPERATOR_TOKEN, live_server
from tests.webhooks.receiver import Receiver, ReceiverThread, Reply, make_tls_files

BASE = "/api/account/{account}/configuration/app-install/installations"
CONTENT = "ms.MessagingEventNotification.ContentEvent"
runner = CliRunner()


@pytest.fixture(scope="module")
def delivering(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Receiver]]:
    ca, cert, key = make_tls_files(tmp_path_factory.mktemp("tls"))
    environment = {"APPINSTALL_DEV": "true", "APPINSTALL_WEBHOOK_CA_FILE": str(ca)}
    with ReceiverThread(cert, key) as receiver, live_server(tmp_path_factory.mktemp("server"), **environment) as server:
        yield server.url, receiver


def _publish(server: str, account: str, text: str, conversation: str) -> str:
    """A ContentEvent notification published to the account; the id of the (one) delivery it made."""
    document = {
        "kind": "notification",
        "type": "ms.MessagingEventNotification",
        "body": {"changes": [{"event": {"type": "ContentEvent", "message": text}, "conversationId": conversation}]},
    }
    response = httpx.post(
        f"{server}/api/account/{account}/notifications",
        content=json.dumps(document),
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}", "Content-Type": "application/json"},
    )
    delivery_id: str = response.json()["deliveries"][0]["id"]
    return delivery_id


def _setup(server: str, receiver: Receiver, failures: int) -> tuple[dict[str, str], str, list[str]]:
    """An account, an installation delivering to the receiver, and two notifications published; the first
    ``failures`` attempts fail."""
    account = f"cli{uuid.uuid4().hex[:8]}"
    admin = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    httpx.post(f"{server}/api/accounts", json={"id": account}, headers=admin).raise_for_status()
    path = f"/{account}"
    receiver.then(path, *[Reply(500)] * failures)
    manifest = json.loads(json.dumps(SEED))
    manifest["capabilities"]["webhooks"] = {CONTENT: {"endpoint": receiver.url(path), "max_retries": 0}}
    installed = httpx.post(f"{server}{BASE.format(account=account)}", json=manifest, headers=admin).json()
    ids = [_publish(server, account, text, "c1") for text in ("one", "two")]
    env = {"APPINSTALL_SERVER": server, "APPINSTALL_ACCOUNT": account, "APPINSTALL_KEY": OPERATOR_TOKEN}
    return env, installed["id"], ids


def _listed(env: dict[str, str], installation_id: str, *options: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["deliveries", "list", installation_id, "--format", "json", *options], env=env)
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)
    return items


def _until_settled(env: dict[str, str], installation_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        items = _listed(env, installation_id)
        if all(item["status"] in ("succeeded", "failed") for item in items):
            return items
        assert time.monotonic() < deadline, items
        time.sleep(0.1)


def test_list_shows_each_delivery_with_its_outcome(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, ids = _setup(*delivering, failures=1)
    items = _until_settled(env, installation_id)
    assert {item["id"]: item["status"] for item in items} == {ids[0]: "failed", ids[1]: "succeeded"}
    human = runner.invoke(app, ["deliveries", "list", installation_id], env=env)
    assert human.exit_code == 0 and ids[0] in human.stdout and "failed" in human.stdout


def test_list_filters_by_status(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, ids = _setup(*delivering, failures=1)
    _until_settled(env, installation_id)
    assert [item["id"] for item in _listed(env, installation_id, "--status", "failed")] == [ids[0]]


def test_retry_sends_a_failed_delivery_again(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, ids = _setup(*delivering, failures=1)
    _until_settled(env, installation_id)
    result = runner.invoke(app, ["deliveries", "retry", installation_id, ids[0]], env=env)
    assert result.exit_code == 0, result.output
    assert f"queued {ids[0]} again" in result.stdout
    deadline = time.monotonic() + 15
    while {item["status"] for item in _listed(env, installation_id)} != {"succeeded"}:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_recover_queues_every_failure_since_a_time(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, _ = _setup(*delivering, failures=2)
    _until_settled(env, installation_id)
    result = runner.invoke(
        app, ["deliveries", "recover", installation_id, "--since", "2020-01-01T00:00:00Z", "--yes"], env=env
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "queued 2 failed deliveries again"


def test_recover_takes_a_time_ago(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, _ = _setup(*delivering, failures=2)
    _until_settled(env, installation_id)
    result = runner.invoke(app, ["deliveries", "recover", installation_id, "--since", "1h", "--yes"], env=env)
    assert result.stdout.strip() == "queued 2 failed deliveries again"


def test_recover_without_yes_and_without_a_terminal_queues_nothing(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, _ = _setup(*delivering, failures=2)
    _until_settled(env, installation_id)
    result = runner.invoke(app, ["deliveries", "recover", installation_id, "--since", "2026-11-25T12:00:00Z"], env=env)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: every delivery to App name ({installation_id}) that failed since 2026-11-25 12:00:00 UTC "
        "is sent to its endpoint again; pass --yes to confirm\n"
    )
    assert {item["status"] for item in _listed(env, installation_id)} == {"failed"}


def test_an_unknown_delivery_fails_with_the_servers_problem(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, _ = _setup(*delivering, failures=0)
    result = runner.invoke(app, ["deliveries", "retry", installation_id, "msg_unknown"], env=env)
    assert result.exit_code == 1
    assert "404" in result.stderr


def test_a_bad_since_is_one_line_that_names_the_forms(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, _ = _setup(*delivering, failures=0)
    result = runner.invoke(app, ["deliveries", "recover", installation_id, "--since", "yesterday"], env=env)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --since: 'yesterday' is not a time; use a time ago (30s, 10m, 2h, 1d), ms since the epoch, "
        "or RFC 3339 (2026-11-25T12:00:00Z)\n"
    )


def test_a_bad_until_names_its_option(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, _ = _setup(*delivering, failures=0)
    result = runner.invoke(app, ["deliveries", "list", installation_id, "--until", "soon"], env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --until: 'soon' is not a time")


def test_list_since_a_time_ago_keeps_the_recent_deliveries(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, ids = _setup(*delivering, failures=0)
    _until_settled(env, installation_id)
    assert {item["id"] for item in _listed(env, installation_id, "--since", "10m")} == set(ids)


def test_list_until_a_time_ago_leaves_out_the_recent_deliveries(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, _ = _setup(*delivering, failures=0)
    _until_settled(env, installation_id)
    assert _listed(env, installation_id, "--until", "10m") == []


def test_list_filters_by_the_short_event_type_name(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, ids = _setup(*delivering, failures=0)
    _until_settled(env, installation_id)
    assert {item["id"] for item in _listed(env, installation_id, "--event-type", "ContentEvent")} == set(ids)
    assert _listed(env, installation_id, "--event-type", "ChatStateEvent") == []


def test_list_takes_the_installations_name(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, ids = _setup(*delivering, failures=0)
    _until_settled(env, installation_id)
    assert {item["id"] for item in _listed(env, "app name", "--status", "succeeded")} == set(ids)


def test_show_prints_the_delivery_and_each_attempt(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, ids = _setup(*delivering, failures=1)
    _until_settled(env, installation_id)
    result = runner.invoke(app, ["deliveries", "show", "App name", ids[0]], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        f"delivery:     {ids[0]}",
        "status:       failed",
        "event:        ContentEvent",
        "conversation: c1",
        f"installation: {installation_id}",
    ]
    assert lines[7] == "attempts (1):"
    assert re.fullmatch(r"  #1  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC  500  \d+ ms", lines[8])


def test_show_prints_the_request_headers_with_masked_signatures_and_the_body(
    delivering: tuple[str, Receiver],
) -> None:
    env, installation_id, ids = _setup(*delivering, failures=0)
    _until_settled(env, installation_id)
    result = runner.invoke(app, ["deliveries", "show", installation_id, ids[0]], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "request headers (signatures masked):" in lines
    assert "  x-liveperson-signature: sha1=…" in lines
    assert "  webhook-signature: v1,…" in lines
    assert f"  webhook-id: {ids[0]}" in lines
    assert "  webhook-attempt: 1" in lines
    assert lines[lines.index("body:") + 1] == "  {"
    assert '    "kind": "notification",' in lines


def test_show_prints_the_endpoints_answer_on_one_line_without_terminal_controls(
    delivering: tuple[str, Receiver],
) -> None:
    server, receiver = delivering
    env, installation_id, _ = _setup(server, receiver, failures=0)
    _until_settled(env, installation_id)
    path = f"/{env['APPINSTALL_ACCOUNT']}"
    receiver.then(path, Reply(500, body=b"\x1b[2Jboom\r\n  at line 2\x07"))
    delivery_id = _publish(server, env["APPINSTALL_ACCOUNT"], "x", "c3")
    _until_settled(env, installation_id)
    result = runner.invoke(app, ["deliveries", "show", installation_id, delivery_id], env=env)
    assert "      response:  [2Jboom at line 2 " in result.stdout.splitlines()
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_show_as_json_is_the_servers_answer(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, ids = _setup(*delivering, failures=0)
    _until_settled(env, installation_id)
    result = runner.invoke(app, ["deliveries", "show", installation_id, ids[1], "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    with httpx.Client(headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}) as client:
        url = f"{env['APPINSTALL_SERVER']}{BASE.format(account=env['APPINSTALL_ACCOUNT'])}/{installation_id}"
        assert shown == client.get(f"{url}/deliveries/{ids[1]}").json()
    assert [attempt["status_code"] for attempt in shown["attempt_log"]] == [200]


def test_show_of_an_unknown_delivery_fails_with_the_servers_problem(delivering: tuple[str, Receiver]) -> None:
    env, installation_id, _ = _setup(*delivering, failures=0)
    result = runner.invoke(app, ["deliveries", "show", installation_id, "msg_unknown"], env=env)
    assert result.exit_code == 1
    assert "(HTTP 404)" in result.stderr


def test_health_shows_a_webhook_disabled_by_gone_and_enable_restores_it(delivering: tuple[str, Receiver]) -> None:
    server, receiver = delivering
    env, installation_id, _ = _setup(server, receiver, failures=0)
    path = f"/{env['APPINSTALL_ACCOUNT']}"
    receiver.script[path].clear()
    receiver.then(path, Reply(410))
    _publish(server, env["APPINSTALL_ACCOUNT"], "x", "c2")
    _until_settled(env, installation_id)
    shown = runner.invoke(app, ["deliveries", "health", installation_id], env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[0] == "retry: by count (each webhook's max_retries)"
    assert f"{CONTENT}: DISABLED (the endpoint answered 410 Gone)" in shown.stdout
    enabled = runner.invoke(app, ["deliveries", "enable", installation_id, CONTENT], env=env)
    assert enabled.exit_code == 0, enabled.output
    again = runner.invoke(app, ["deliveries", "health", installation_id, "--format", "json"], env=env)
    assert json.loads(again.stdout)[0]["enabled"] is True
