"""Administration commands, and the server run as a real process over real HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import httpx
import pytest
from typer.testing import CliRunner

from appinstall.app import open_store
from appinstall.cli import app
from appinstall.cli.server import AgentChoice
from appinstall.registry import listing
from appinstall.registry import service as registry
from appinstall.registry.models import InstallationFilter
from appinstall.sandbox.models import AgentMode
from appinstall.settings import Settings
from tests.conftest import SEED, TEST_MASTER_KEY
from tests.live_server import OPERATOR_TOKEN, LiveServer, live_server

runner = CliRunner()


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("APPINSTALL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("APPINSTALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("APPINSTALL_MASTER_KEY", raising=False)
    return tmp_path


def test_db_upgrade_creates_the_sqlite_store_and_its_master_key(environment: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (environment / "appinstall.db").exists()
    assert (environment / "master.key").stat().st_mode & 0o777 == 0o600


def test_accounts_create_then_keys_create_prints_a_key(environment: Path) -> None:
    assert runner.invoke(app, ["accounts", "create", "123"]).exit_code == 0
    result = runner.invoke(app, ["keys", "create", "123", "--name", "ci"])
    assert result.exit_code == 0
    assert result.output.strip().startswith("aik_")


def test_creating_an_account_twice_fails_with_a_message(environment: Path) -> None:
    runner.invoke(app, ["accounts", "create", "123"])
    result = runner.invoke(app, ["accounts", "create", "123"])
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_a_key_for_an_unknown_account_fails(environment: Path) -> None:
    result = runner.invoke(app, ["keys", "create", "nobody"])
    assert result.exit_code == 1
    assert "no account 'nobody'" in result.output


def test_an_invalid_account_id_is_refused(environment: Path) -> None:
    assert runner.invoke(app, ["accounts", "create", "a/b"]).exit_code == 1


def test_keygen_prints_32_bytes_of_base64() -> None:
    result = runner.invoke(app, ["keygen"])
    assert len(base64.b64decode(result.output.strip())) == 32


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path) as running:
        yield running


def test_the_served_api_installs_an_app_and_logs_no_query_strings(server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        assert client.post("/api/accounts", json={"id": "42"}).status_code == 201
        created = client.post("/api/account/42/configuration/app-install/installations?v=1.0", json=SEED)
        assert created.status_code == 201
        client.get("/api/account/42/configuration/app-install/installations?client_secret=leak-me")
    output = server.stop()
    assert "POST /api/account/42/configuration/app-install/installations HTTP/1.1" in output
    assert "leak-me" not in output and created.json()["client_secret"] not in output


def test_serve_with_agent_echo_turns_the_echo_agent_on_for_every_account(tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    with (
        live_server(tmp_path, "--agent", "echo") as server,
        httpx.Client(base_url=server.url, headers=headers) as client,
    ):
        client.post("/api/accounts", json={"id": "42"})
        setting = client.get("/api/account/42/sandbox/agent").json()
    assert setting == {"mode": "echo", "source": "server"}


def test_master_key_rotation_reencrypts_and_keeps_every_secret(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key = runner.invoke(app, ["keygen"]).output.strip()
    new_key = runner.invoke(app, ["keygen"]).output.strip()
    monkeypatch.setenv("APPINSTALL_MASTER_KEY", old_key)
    runner.invoke(app, ["accounts", "create", "7"])
    secret = asyncio.run(_install_and_read_secret())

    monkeypatch.setenv("APPINSTALL_MASTER_KEY", f"{new_key},{old_key}")
    result = runner.invoke(app, ["db", "reencrypt"])
    assert result.exit_code == 0 and "re-encrypted 1 client secret" in result.output
    assert "the webhook header values of 1 installation" in result.output  # the seed's webhooks have headers
    again = runner.invoke(app, ["db", "reencrypt"]).output
    assert "re-encrypted nothing" in again and "(2nd) seals nothing: it can be removed" in again
    assert "header values" not in again

    monkeypatch.setenv("APPINSTALL_MASTER_KEY", new_key)
    assert asyncio.run(_read_secret()) == secret


async def _install_and_read_secret() -> str:
    store = await open_store(Settings())
    try:
        installation = await registry.create(store, "7", SEED, "test")
        assert installation.client_secret is not None
        return installation.client_secret
    finally:
        await store.close()


async def _read_secret() -> str | None:
    store = await open_store(Settings())
    try:
        [installation] = (await listing.search(store, "7", InstallationFilter(), None, 10)).items
        return installation.client_secret
    finally:
        await store.close()


def test_the_agent_choices_of_serve_are_the_sandboxs_agent_modes() -> None:
    assert {choice.value for choice in AgentChoice} == set(get_args(AgentMode))


# --- accounts list, keys list, keys revoke ---------------------------------------------------------------------


def test_accounts_list_shows_each_account_with_its_creation_time(environment: Path) -> None:
    runner.invoke(app, ["accounts", "create", "b2"])
    runner.invoke(app, ["accounts", "create", "a1"])
    result = runner.invoke(app, ["accounts", "list"])
    assert result.exit_code == 0, result.output
    assert [line.split("  ")[0] for line in result.stdout.splitlines()] == ["a1", "b2"]
    assert all(line.endswith(" UTC") and "created 20" in line for line in result.stdout.splitlines())


def test_accounts_list_of_an_empty_store_says_how_to_create_one(environment: Path) -> None:
    result = runner.invoke(app, ["accounts", "list"])
    assert result.exit_code == 0
    assert "appinstall accounts create" in result.stdout


def test_keys_list_shows_id_name_and_state_but_never_the_key(environment: Path) -> None:
    runner.invoke(app, ["accounts", "create", "123"])
    key = runner.invoke(app, ["keys", "create", "123", "--name", "ci"]).stdout.strip()
    result = runner.invoke(app, ["keys", "list", "123"])
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert line.split("  ")[1] == "ci" and line.endswith("  active")
    assert key not in result.output and key.removeprefix("aik_") not in result.output


def test_keys_list_of_an_unknown_account_fails_in_one_line(environment: Path) -> None:
    result = runner.invoke(app, ["keys", "list", "nobody"])
    assert result.exit_code == 1
    assert result.stderr == "error: there is no account 'nobody'\n"


def _one_key(account: str) -> tuple[str, str]:
    """A new key of ``account``: its id (from ``keys list``) and the key itself."""
    key = runner.invoke(app, ["keys", "create", account]).stdout.strip()
    key_id = runner.invoke(app, ["keys", "list", account]).stdout.splitlines()[-1].split("  ")[0]
    return key_id, key


def test_keys_revoke_with_yes_marks_the_key_revoked(environment: Path) -> None:
    runner.invoke(app, ["accounts", "create", "123"])
    key_id, _ = _one_key("123")
    result = runner.invoke(app, ["keys", "revoke", "123", key_id, "--yes"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"revoked key {key_id} of account 123\n"
    assert " revoked 20" in runner.invoke(app, ["keys", "list", "123"]).stdout


def test_a_revoked_key_is_refused_by_the_server(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        environment: dict[str, str | None] = {
            "APPINSTALL_DATA_DIR": str(tmp_path),
            "APPINSTALL_DATABASE_URL": None,
            "APPINSTALL_MASTER_KEY": TEST_MASTER_KEY,  # the server's: the store holds what it sealed
        }
        runner.invoke(app, ["accounts", "create", "123"], env=environment)
        key = runner.invoke(app, ["keys", "create", "123"], env=environment).stdout.strip()
        key_id = runner.invoke(app, ["keys", "list", "123"], env=environment).stdout.split("  ")[0]
        url = f"{server.url}/api/accounts/123/keys"
        assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert runner.invoke(app, ["keys", "revoke", "123", key_id, "-y"], env=environment).exit_code == 0
        assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_keys_revoke_without_yes_and_without_a_terminal_revokes_nothing(environment: Path) -> None:
    runner.invoke(app, ["accounts", "create", "123"])
    key_id, _ = _one_key("123")
    result = runner.invoke(app, ["keys", "revoke", "123", key_id])
    assert result.exit_code == 2
    assert result.stderr == f"error: key {key_id} of account 123 stops working at once; pass --yes to confirm\n"
    assert runner.invoke(app, ["keys", "list", "123"]).stdout.rstrip().endswith("  active")


def test_revoking_an_unknown_key_fails_in_one_line(environment: Path) -> None:
    runner.invoke(app, ["accounts", "create", "123"])
    result = runner.invoke(app, ["keys", "revoke", "123", "nope", "--yes"])
    assert result.exit_code == 1
    assert result.stderr == "error: there is no active key 'nope' in this account\n"
