"""``appinstall signing-keys list/rotate/revoke`` against a real server: what it prints is what the server did."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from appinstall.cli import app
from tests.live_server import OPERATOR_TOKEN, live_server

runner = CliRunner()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("server"), APPINSTALL_TOKEN_TTL_SECONDS="600") as running:
        yield running.url


def run(server: str, *arguments: str, key: str = OPERATOR_TOKEN) -> tuple[int, str, str]:
    result = runner.invoke(app, ["signing-keys", *arguments, "--server", server, "--key", key])
    return result.exit_code, result.stdout, result.stderr


def jwks_kids(server: str) -> set[str]:
    return {key["kid"] for key in httpx.get(f"{server}/.well-known/jwks.json").json()["keys"]}


def test_list_shows_the_key_that_signs(server: str) -> None:
    code, out, _ = run(server, "list")
    assert code == 0
    assert "signing" in out


def test_rotate_says_when_the_new_key_signs_and_is_in_the_servers_jwks_at_once(server: str) -> None:
    code, out, err = run(server, "rotate", "--activate-in", "3600")
    assert code == 0, err
    kid = out.split()[3]
    assert "in this server's JWKS now" in out
    assert kid in jwks_kids(server)
    assert err == ""


def test_rotate_reports_the_retirement_by_the_servers_token_lifetime_not_the_commands(server: str) -> None:
    rotated = runner.invoke(
        app, ["signing-keys", "rotate", "--server", server, "--key", OPERATOR_TOKEN, "--format", "json"]
    )
    answer = json.loads(rotated.stdout)
    added = answer["added"]
    older = [key for key in answer["keys"] if key["kid"] != added["kid"]]
    # the last token any older key signs expires by the new key's activation + the server's 600 s (not the 3600 s
    # this process would assume)
    assert max(key["retires_at"] for key in older) == added["activates_at"] + 600_000


def test_rotating_to_sign_soon_warns_about_cached_jwks(server: str) -> None:
    code, _, err = run(server, "rotate", "--activate-in", "10")
    assert code == 0
    assert "cache the JWKS" in err


def test_revoke_removes_the_key_from_the_jwks_at_once(server: str) -> None:
    _, out, _ = run(server, "rotate", "--activate-in", "3600")
    kid = out.split()[3]
    code, out, err = run(server, "revoke", kid, "--yes")
    assert code == 0, err
    assert f"revoked {kid}" in out
    assert kid not in jwks_kids(server)


def test_revoke_without_yes_and_without_a_terminal_asks_for_yes(server: str) -> None:
    code, _, err = run(server, "revoke", "whatever")
    assert code == 2
    assert "pass --yes" in err


def test_an_unknown_kid_is_one_line_and_exit_1(server: str) -> None:
    code, _, err = run(server, "revoke", "nope", "--yes")
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "no signing key has the kid 'nope'" in err


def test_an_admin_key_is_told_signing_keys_need_the_operator_token(server: str) -> None:
    admin = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    httpx.post(f"{server}/api/accounts", json={"id": "sk"}, headers=admin)
    key = httpx.post(f"{server}/api/accounts/sk/keys", json={"name": "k"}, headers=admin).json()["key"]
    code, _, err = run(server, "list", key=key)
    assert code == 1
    assert "operator token" in err
