"""install, plan, apply and ``installations …`` against a real server process, over real HTTP.

One server serves the whole module (starting it takes a second); each test gets its own account and admin key,
so tests cannot see each other's installations.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from appinstall.cli import app
from appinstall.cli import confirm as confirm_module
from appinstall.cli import remote as remote_module
from appinstall.cli.remote import RegistryClient, RemoteError, Revisioned, ServerUnreachable
from tests.conftest import SEED
from tests.live_server import OPERATOR_TOKEN, free_port, live_server

BASE = "/api/account/{account}/configuration/app-install/installations"

runner = CliRunner()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``appinstall serve`` on SQLite in a fresh directory and a free port, until the module's tests are done."""
    with live_server(tmp_path_factory.mktemp("server")) as running:
        yield running.url


@dataclass(frozen=True)
class Tenant:
    """An account of the server and an admin key of it, as the CLI's environment names them."""

    server: str
    account: str
    key: str

    @property
    def env(self) -> dict[str, str | None]:
        return {"APPINSTALL_SERVER": self.server, "APPINSTALL_ACCOUNT": self.account, "APPINSTALL_KEY": self.key}

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.server, headers={"Authorization": f"Bearer {self.key}"})

    def read(self, installation_id: str) -> httpx.Response:
        with self.http() as client:
            return client.get(f"{BASE.format(account=self.account)}/{installation_id}")

    def installations(self) -> list[dict[str, Any]]:
        with self.http() as client:
            body: list[dict[str, Any]] = client.get(BASE.format(account=self.account)).json()
            return body


@pytest.fixture
def tenant(server: str) -> Tenant:
    """A new account, created by the operator, and an admin key made for it over HTTP."""
    account = uuid.uuid4().hex[:12]
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}) as operator:
        assert operator.post("/api/accounts", json={"id": account}).status_code == 201
        created = operator.post(f"/api/accounts/{account}/keys", json={"name": "cli-test"})
        assert created.status_code == 201
    return Tenant(server, account, created.json()["key"])


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(SEED))
    return path


def run(tenant: Tenant, *args: str, env: Mapping[str, str | None] | None = None, stdin: str | None = None) -> Result:
    return runner.invoke(app, list(args), env={**tenant.env, **(env or {})}, input=stdin)


def rewrite(path: Path, **changes: Any) -> None:
    document = copy.deepcopy(SEED)
    document.update(changes)
    path.write_text(json.dumps(document))


def install(tenant: Tenant, manifest_file: Path) -> dict[str, Any]:
    result = run(tenant, "install", str(manifest_file), "--format", "json")
    assert result.exit_code == 0, result.output
    created: dict[str, Any] = json.loads(result.stdout)
    return created


# --- install ---------------------------------------------------------------------------------------------------


def test_install_prints_the_new_installations_credentials(tenant: Tenant, manifest_file: Path) -> None:
    result = run(tenant, "install", str(manifest_file))
    assert result.exit_code == 0, result.output
    [installed] = tenant.installations()
    assert result.stdout.splitlines() == [
        "installed App name",
        f"id: {installed['id']}",
        f"client_id: {installed['client_id']}",
        f"client_secret: {installed['client_secret']}",
    ]
    assert tenant.key not in result.output


def test_install_reads_the_manifest_from_stdin(tenant: Tenant) -> None:
    result = run(tenant, "install", "-", "--format", "json", stdin=json.dumps(SEED))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["client_secret"]


def test_an_invalid_manifest_is_not_sent_to_the_server(tenant: Tenant, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"client_name": "x", "scpoe": "msg.consumer"}))
    result = run(tenant, "install", str(path))
    assert result.exit_code == 1
    assert f"{path}: error /scpoe: 'scpoe' is not a known key here" in result.stderr
    assert tenant.installations() == []


def test_installing_a_taken_name_shows_the_servers_problem_and_its_pointers(
    tenant: Tenant, manifest_file: Path
) -> None:
    install(tenant, manifest_file)
    result = run(tenant, "install", str(manifest_file))
    assert result.exit_code == 1
    assert "error: an installation named 'App name' already exists" in result.stderr
    assert "  /client_name: is already used by another installation" in result.stderr


# --- plan ------------------------------------------------------------------------------------------------------


def test_plan_before_installing_says_it_would_install(tenant: Tenant, manifest_file: Path) -> None:
    result = run(tenant, "plan", str(manifest_file))
    assert result.exit_code == 0, result.output
    assert result.stdout == "would install App name\n"


def test_plan_of_the_installed_manifest_says_no_changes(tenant: Tenant, manifest_file: Path) -> None:
    install(tenant, manifest_file)
    result = run(tenant, "plan", str(manifest_file))
    assert result.exit_code == 0 and "no changes" in result.stdout


def test_plan_after_changing_the_description_shows_the_change(tenant: Tenant, manifest_file: Path) -> None:
    install(tenant, manifest_file)
    rewrite(manifest_file, description="Now better")
    result = run(tenant, "plan", str(manifest_file))
    assert result.exit_code == 0, result.output
    assert '~ /description: "App description" → "Now better"' in result.stdout.splitlines()


def test_plan_with_exit_code_exits_zero_when_nothing_would_change(tenant: Tenant, manifest_file: Path) -> None:
    install(tenant, manifest_file)
    assert run(tenant, "plan", str(manifest_file), "--exit-code").exit_code == 0


def test_plan_with_exit_code_exits_two_when_changes_are_pending(tenant: Tenant, manifest_file: Path) -> None:
    install(tenant, manifest_file)
    rewrite(manifest_file, description="Now better")
    result = run(tenant, "plan", str(manifest_file), "--exit-code")
    assert result.exit_code == 2
    assert "would change App name" in result.stdout


def test_plan_with_exit_code_exits_two_when_it_would_install(tenant: Tenant, manifest_file: Path) -> None:
    assert run(tenant, "plan", str(manifest_file), "--exit-code", "--format", "json").exit_code == 2


def test_plan_with_exit_code_still_exits_one_on_an_error(tenant: Tenant, manifest_file: Path) -> None:
    result = run(tenant, "plan", str(manifest_file), "--exit-code", env={"APPINSTALL_KEY": "aik_wrong"})
    assert result.exit_code == 1


def test_plan_as_json_lists_the_changes(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    document = copy.deepcopy(SEED)
    del document["logo_uri"]
    manifest_file.write_text(json.dumps(document))
    result = run(tenant, "plan", str(manifest_file), "--format", "json")
    assert json.loads(result.stdout) == {
        "client_name": "App name",
        "id": created["id"],
        "action": "update",
        "changes": [{"kind": "removed", "pointer": "/logo_uri", "old": SEED["logo_uri"]}],
    }


# --- apply -----------------------------------------------------------------------------------------------------


def test_apply_creates_then_updates_then_changes_nothing(tenant: Tenant, manifest_file: Path) -> None:
    first = run(tenant, "apply", str(manifest_file))
    assert first.exit_code == 0, first.output
    [installed] = tenant.installations()
    assert tenant.read(installed["id"]).headers["ac-revision"] == "1"

    rewrite(manifest_file, description="Now better")
    second = run(tenant, "apply", str(manifest_file))
    assert second.exit_code == 0, second.output
    assert '~ /description: "App description" → "Now better"' in second.stdout
    response = tenant.read(installed["id"])
    assert response.headers["ac-revision"] == "2"
    assert response.json()["description"] == "Now better"
    assert response.json()["client_secret"] == installed["client_secret"]

    third = run(tenant, "apply", str(manifest_file))
    assert third.exit_code == 0, third.output
    assert "no changes" in third.stdout
    assert tenant.read(installed["id"]).headers["ac-revision"] == "2"


def test_apply_as_json_reports_what_it_did(tenant: Tenant, manifest_file: Path) -> None:
    created = json.loads(run(tenant, "apply", str(manifest_file), "-f", "json").stdout)
    assert (created["action"], created["revision"], created["changes"]) == ("installed", "1", [])
    assert created["installation"]["client_secret"]
    again = json.loads(run(tenant, "apply", str(manifest_file), "-f", "json").stdout)
    assert (again["action"], again["installation"]["id"]) == ("unchanged", created["installation"]["id"])


def test_apply_keeps_a_disabled_installation_disabled(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    assert run(tenant, "installations", "disable", created["id"]).exit_code == 0
    rewrite(manifest_file, description="Now better")
    assert run(tenant, "apply", str(manifest_file)).exit_code == 0
    assert tenant.read(created["id"]).json()["enabled"] is False


# --- installations list / show / disable / enable / delete / rotate-secret -----------------------------------


def test_list_shows_a_table_of_installations(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    result = run(tenant, "installations", "list")
    assert result.exit_code == 0, result.output
    assert created["id"] in result.stdout and "App name" in result.stdout and "ContentEvent" in result.stdout
    as_json = run(tenant, "installations", "list", "--format", "json")
    assert [item["id"] for item in json.loads(as_json.stdout)] == [created["id"]]


def test_list_of_an_empty_account_says_so(tenant: Tenant) -> None:
    result = run(tenant, "installations", "list")
    assert result.exit_code == 0 and result.stdout == "no installations\n"


def test_show_prints_the_installation_as_json(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    result = run(tenant, "installations", "show", created["id"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == created


def test_showing_an_unknown_id_exits_one_with_the_servers_detail(tenant: Tenant) -> None:
    unknown = str(uuid.uuid4())
    result = run(tenant, "installations", "show", unknown)
    assert result.exit_code == 1
    assert f"there is no installation '{unknown}' (HTTP 404)" in result.stderr


def test_show_finds_an_installation_by_its_name_in_any_case(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    result = run(tenant, "installations", "show", "app NAME")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == created["id"]


def test_show_finds_an_installation_by_its_client_id(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    result = run(tenant, "installations", "show", created["client_id"])
    assert json.loads(result.stdout)["id"] == created["id"]


def test_an_unknown_name_is_one_line_that_says_what_is_accepted(tenant: Tenant) -> None:
    result = run(tenant, "installations", "show", "nope")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: no installation of account {tenant.account} is named 'nope'; "
        "give its id, client_id or client_name (see 'appinstall installations list')\n"
    )


def test_disable_then_enable_toggles_the_installation(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    disabled = run(tenant, "installations", "disable", created["id"])
    assert disabled.exit_code == 0, disabled.output
    assert tenant.read(created["id"]).json()["enabled"] is False
    assert "already disabled" in run(tenant, "installations", "disable", created["id"]).stdout
    enabled = run(tenant, "installations", "enable", created["id"])
    assert enabled.exit_code == 0, enabled.output
    assert tenant.read(created["id"]).json()["enabled"] is True


def test_delete_without_yes_is_a_usage_error_and_deletes_nothing(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    result = run(tenant, "installations", "delete", created["id"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: deleting App name ({created['id']}) stops its credentials at once; pass --yes to confirm\n"
    )
    assert [item["id"] for item in tenant.installations()] == [created["id"]]


def test_delete_at_a_terminal_asks_and_a_no_keeps_it(
    tenant: Tenant, manifest_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = install(tenant, manifest_file)
    monkeypatch.setattr(confirm_module, "interactive", lambda: True)
    result = run(tenant, "installations", "delete", "App name", stdin="n\n")
    assert result.exit_code == 1
    assert f"Delete App name ({created['id']})? [y/N]" in result.stdout
    assert [item["id"] for item in tenant.installations()] == [created["id"]]


def test_delete_at_a_terminal_deletes_on_yes(
    tenant: Tenant, manifest_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tenant, manifest_file)
    monkeypatch.setattr(confirm_module, "interactive", lambda: True)
    result = run(tenant, "installations", "delete", "App name", stdin="y\n")
    assert result.exit_code == 0, result.output
    assert tenant.installations() == []


def test_delete_with_yes_removes_it_from_the_list(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    result = run(tenant, "installations", "delete", created["id"], "--yes")
    assert result.exit_code == 0, result.output
    assert tenant.installations() == []
    listed = run(tenant, "installations", "list", "--include-deleted", "--format", "json")
    assert [item["deleted"] for item in json.loads(listed.stdout)] == [True]


def test_rotate_secret_prints_a_new_secret_and_the_old_ones_deadline(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    result = run(tenant, "installations", "rotate-secret", created["id"], "--grace-seconds", "60", "--yes")
    assert result.exit_code == 0, result.output
    secret_line, until_line = result.stdout.splitlines()
    new_secret = secret_line.removeprefix("client_secret: ")
    assert new_secret != created["client_secret"]
    assert new_secret == tenant.read(created["id"]).json()["client_secret"]
    assert until_line.startswith("the previous secret works until ") and until_line.endswith(" UTC")


def test_rotate_secret_without_yes_says_when_the_current_secret_stops(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    result = run(tenant, "installations", "rotate-secret", "App name", "--grace-seconds", "0")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: the current secret of App name ({created['id']}) stops working at once; pass --yes to confirm\n"
    )
    assert tenant.read(created["id"]).json()["client_secret"] == created["client_secret"]


def test_disable_takes_the_installations_name(tenant: Tenant, manifest_file: Path) -> None:
    created = install(tenant, manifest_file)
    result = run(tenant, "installations", "disable", "App name")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"disabled App name ({created['id']})\n"


# --- errors ----------------------------------------------------------------------------------------------------


def test_a_wrong_key_exits_one_with_the_401_detail(tenant: Tenant) -> None:
    result = run(tenant, "installations", "list", env={"APPINSTALL_KEY": "aik_wrong"})
    assert result.exit_code == 1
    assert "the bearer key is not valid (unknown or revoked) (HTTP 401)" in result.stderr
    assert "aik_wrong" not in result.output


def test_a_missing_key_is_a_usage_error(tenant: Tenant) -> None:
    result = run(tenant, "installations", "list", env={"APPINSTALL_KEY": None})
    assert result.exit_code == 2
    assert "APPINSTALL_KEY" in result.stderr


def test_a_missing_account_is_a_usage_error(tenant: Tenant, manifest_file: Path) -> None:
    result = run(tenant, "plan", str(manifest_file), env={"APPINSTALL_ACCOUNT": None})
    assert result.exit_code == 2
    assert "APPINSTALL_ACCOUNT" in result.stderr


def test_flags_override_the_environment(tenant: Tenant) -> None:
    env = {"APPINSTALL_KEY": "aik_wrong", "APPINSTALL_ACCOUNT": "elsewhere", "APPINSTALL_SERVER": "http://127.0.0.1:1"}
    result = run(
        tenant, "installations", "list", "--server", tenant.server, "--key", tenant.key, "-a", tenant.account, env=env
    )
    assert result.exit_code == 0, result.output


def test_a_server_that_is_not_an_http_url_is_a_usage_error(tenant: Tenant) -> None:
    result = run(tenant, "installations", "list", "--server", "localhost:8080")
    assert result.exit_code == 2 and "http:// or https://" in result.stderr


def test_an_unreachable_server_exits_one_with_one_line(tenant: Tenant) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run(tenant, "installations", "list", env={"APPINSTALL_SERVER": url})
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot reach {url}: connection refused\n"


def test_apply_refuses_to_overwrite_a_change_made_meanwhile(
    tenant: Tenant, manifest_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = install(tenant, manifest_file)
    read_before_the_change = remote_module.find_installation

    def someone_changes_it_after_the_read(registry: RegistryClient, name: str) -> Revisioned | None:
        found = read_before_the_change(registry, name)
        with tenant.http() as client:
            path = f"{BASE.format(account=tenant.account)}/{created['id']}"
            changed = client.patch(path, json={"description": "theirs"}, headers={"If-Match": "1"})
            assert changed.status_code == 200
        return found

    monkeypatch.setattr(remote_module, "find_installation", someone_changes_it_after_the_read)
    rewrite(manifest_file, description="mine")
    result = run(tenant, "apply", str(manifest_file))
    assert result.exit_code == 1
    assert "it is at revision 2; read it again (HTTP 412)" in result.stderr
    assert "someone changed the installation meanwhile" in result.stderr
    assert tenant.read(created["id"]).json()["description"] == "theirs"


# --- the HTTP client on its own --------------------------------------------------------------------------------


def client_answering(handler: Callable[[httpx.Request], httpx.Response]) -> RegistryClient:
    return RegistryClient("http://registry.test", "aik_k", "123", transport=httpx.MockTransport(handler))


def test_an_error_that_is_not_a_problem_is_reported_by_its_text() -> None:
    answer = httpx.Response(502, text="<html>\n Bad   gateway </html>")
    with client_answering(lambda _: answer) as client, pytest.raises(RemoteError) as raised:
        client.installations()
    assert (raised.value.status, raised.value.detail, raised.value.errors) == (502, "<html> Bad gateway </html>", [])


def test_a_problem_is_read_with_its_detail_and_errors() -> None:
    problem = {"status": 409, "detail": "taken", "errors": [{"pointer": "/client_name", "message": "is used"}]}
    answer = httpx.Response(409, json=problem, headers={"Content-Type": "application/problem+json"})
    with client_answering(lambda _: answer) as client, pytest.raises(RemoteError) as raised:
        client.create(b"{}")
    assert (raised.value.detail, raised.value.errors) == ("taken", problem["errors"])


def test_a_timeout_is_reported_as_no_answer_naming_the_server() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with client_answering(hang) as client, pytest.raises(ServerUnreachable) as raised:
        client.get("x")
    assert str(raised.value) == "cannot reach http://registry.test: no answer within 10 s"


def test_the_client_sends_the_key_as_a_bearer_token_and_quotes_ids() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "a/b"}, headers={"ac-revision": "4"})

    with client_answering(record) as client:
        assert client.get("a/b").revision == "4"
    assert seen[0].headers["Authorization"] == "Bearer aik_k"
    assert seen[0].url.raw_path == b"/api/account/123/configuration/app-install/installations/a%2Fb"
    assert "aik_k" not in repr(client)


def test_install_passes_enabled_false_through_to_the_server(tenant: Tenant, tmp_path: Path) -> None:
    path = tmp_path / "disabled.json"
    path.write_text(json.dumps({**SEED, "client_name": "Starts disabled", "enabled": False}))
    result = run(tenant, "install", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["enabled"] is False
