"""Master keys as an operator meets them: the rotation runbook of docs/operations.md run as written, a server that
refuses keys that cannot open its store, and the recovery from a lost key, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from appinstall.store.keyring import generate_key
from tests.conftest import SEED
from tests.docs.shell_blocks import shell_blocks
from tests.live_server import OPERATOR_TOKEN, free_port, live_server

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
ACCOUNT = "77"
INSTALLATIONS = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
TOKEN = f"/sentinel/api/account/{ACCOUNT}/app/token?v=1.0&grant_type=client_credentials"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
def store_url(database_url: str) -> str:
    """The store's URL in the form people paste: ``postgres://`` for PostgreSQL (it means asyncpg)."""
    return database_url.replace("postgresql+asyncpg://", "postgres://", 1)


def _environment(data_dir: Path, store_url: str, master_key: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("APPINSTALL_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {
        **env,
        "APPINSTALL_DATA_DIR": str(data_dir),
        "APPINSTALL_DATABASE_URL": store_url,
        "APPINSTALL_MASTER_KEY": master_key,
        "APPINSTALL_OPERATOR_TOKEN": OPERATOR_TOKEN,
    }


def _install(data_dir: Path, store_url: str, master_key: str) -> dict[str, Any]:
    """Start a server, install the seed and get a token (which makes the first signing key); the installation."""
    with (
        live_server(data_dir, APPINSTALL_DATABASE_URL=store_url, APPINSTALL_MASTER_KEY=master_key) as server,
        httpx.Client(base_url=server.url, headers=OPERATOR) as client,
    ):
        assert client.post("/api/accounts", json={"id": ACCOUNT}).status_code == 201
        created = client.post(INSTALLATIONS, json=SEED)
        assert created.status_code == 201, created.text
        installation: dict[str, Any] = created.json()
        assert _token(server.url, installation["id"], installation["client_secret"]) == 200
    return installation


def _token(url: str, client_id: str, secret: str) -> int:
    response = httpx.post(url + TOKEN, data={"client_id": client_id, "client_secret": secret})
    return response.status_code


def _appinstall(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appinstall", *arguments], env=env, capture_output=True, text=True, timeout=90
    )


def _section(title: str) -> str:
    text = OPERATIONS.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


# --- The runbook, as written ---------------------------------------------------------------------------------

ASSIGNED = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=", re.MULTILINE)


def _run_block(code: str, state: Path, names: set[str], env: dict[str, str], cwd: Path) -> str:
    """Run one block as the reader would in the same terminal: what earlier blocks set is set; its output."""
    names |= set(ASSIGNED.findall(code))
    keep = " ".join(sorted(names))
    script = f"set -euo pipefail\nsource {state}\n{code}\ndeclare -p {keep} > {state} 2>/dev/null || true\n"
    result = subprocess.run(["bash", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, f"the block failed:\n{code}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def _master_key_in(state: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["bash", "-c", f'source {state}; printf %s "$APPINSTALL_MASTER_KEY"'], env=env, capture_output=True, text=True
    )
    return result.stdout


def test_the_rotation_runbook_runs_as_written_and_the_server_starts_after_each_step(
    tmp_path: Path, store_url: str
) -> None:
    old_key = generate_key()
    installation = _install(tmp_path / "data", store_url, old_key)
    env = _environment(tmp_path / "data", store_url, old_key)
    state = tmp_path / "state.sh"
    state.write_text("")
    names: set[str] = {"APPINSTALL_MASTER_KEY"}
    blocks = shell_blocks(_section("Rotating the master key"))
    assert len(blocks) == 3
    outputs, running_key = [], old_key
    for block in blocks:
        outputs.append(_run_block(block.code, state, names, env, tmp_path))
        key = _master_key_in(state, env)
        if key != running_key:  # "restart every process": the server must start with the new value
            running_key = key
            with live_server(tmp_path / "data", APPINSTALL_DATABASE_URL=store_url, APPINSTALL_MASTER_KEY=key) as server:
                assert _token(server.url, installation["id"], installation["client_secret"]) == 200
    new_key = running_key
    assert "," not in new_key and new_key != old_key
    assert "re-encrypted 1 client secret and 1 signing key" in outputs[1]
    assert "(2nd) seals nothing: it can be removed" in outputs[1]
    with (
        live_server(tmp_path / "data", APPINSTALL_DATABASE_URL=store_url, APPINSTALL_MASTER_KEY=new_key) as server,
        httpx.Client(base_url=server.url, headers=OPERATOR) as client,
    ):
        read = client.get(f"{INSTALLATIONS}/{installation['id']}")
        assert read.status_code == 200 and read.json()["client_secret"] == installation["client_secret"]
        assert _token(server.url, installation["id"], installation["client_secret"]) == 200


# --- Keys that cannot open the store -------------------------------------------------------------------------


def test_serve_and_worker_refuse_keys_that_cannot_open_the_store_in_the_same_one_line(
    tmp_path: Path, store_url: str
) -> None:
    old_key = generate_key()
    _install(tmp_path / "data", store_url, old_key)
    env = _environment(tmp_path / "data", store_url, generate_key())
    served = _appinstall(env, "serve", "--port", str(free_port()))
    worked = _appinstall(env, "worker")
    for result in (served, worked):
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert "APPINSTALL_MASTER_KEY lacks a key the store needs" in line
        assert "sealed 1 client secret and 1 signing key" in line
        assert "Traceback" not in result.stderr
    assert served.stderr == worked.stderr
    assert "serving on" not in served.stdout + served.stderr


def test_removing_the_old_key_before_reencrypting_stops_serve_and_putting_it_back_recovers(
    tmp_path: Path, store_url: str
) -> None:
    old_key, new_key = generate_key(), generate_key()
    installation = _install(tmp_path / "data", store_url, old_key)
    result = _appinstall(_environment(tmp_path / "data", store_url, new_key), "serve", "--port", str(free_port()))
    assert result.returncode == 2 and "Put it back" in result.stderr
    with live_server(
        tmp_path / "data", APPINSTALL_DATABASE_URL=store_url, APPINSTALL_MASTER_KEY=f"{new_key},{old_key}"
    ) as server:
        assert _token(server.url, installation["id"], installation["client_secret"]) == 200


def test_a_missing_key_file_beside_sealed_data_is_an_error_and_no_new_key_is_made(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = _environment(data, f"sqlite:///{data / 'appinstall.db'}", "")
    del env["APPINSTALL_MASTER_KEY"]
    assert _appinstall(env, "db", "upgrade").returncode == 0  # an empty store: the key file is made
    key = (data / "master.key").read_text().strip()
    _install(data, env["APPINSTALL_DATABASE_URL"], key)
    (data / "master.key").unlink()
    result = _appinstall(env, "serve", "--port", str(free_port()))
    assert result.returncode == 2
    assert "master key file" in result.stderr and "is missing, but the store holds" in result.stderr
    assert not (data / "master.key").exists()


# --- A lost key ----------------------------------------------------------------------------------------------


def test_recover_lost_key_resets_the_secrets_and_signing_keys_and_the_server_works_again(
    tmp_path: Path, store_url: str
) -> None:
    lost_key, new_key = generate_key(), generate_key()
    installation = _install(tmp_path / "data", store_url, lost_key)
    env = _environment(tmp_path / "data", store_url, new_key)
    assert _appinstall(env, "db", "recover-lost-key").returncode == 2  # asks for --yes first
    recovered = _appinstall(env, "db", "recover-lost-key", "--yes")
    assert recovered.returncode == 0, recovered.stderr
    [line] = recovered.stdout.splitlines()
    account, client_id, secret = line.split("\t")
    assert (account, client_id) == (ACCOUNT, installation["id"]) and secret != installation["client_secret"]
    assert "replaced 1 signing key(s)" in recovered.stderr
    assert "dropped the unreadable value of webhook header" in recovered.stderr  # the seed's webhooks have headers
    again = _appinstall(env, "db", "recover-lost-key", "--yes")
    assert again.returncode == 0 and again.stdout == "" and "nothing to recover" in again.stderr

    with (
        live_server(tmp_path / "data", APPINSTALL_DATABASE_URL=store_url, APPINSTALL_MASTER_KEY=new_key) as server,
        httpx.Client(base_url=server.url, headers=OPERATOR) as client,
    ):
        assert _token(server.url, client_id, secret) == 200
        assert _token(server.url, client_id, installation["client_secret"]) == 401
        read = client.get(f"{INSTALLATIONS}/{client_id}")
        assert read.status_code == 200 and read.json()["client_secret"] == secret
        assert read.json()["client_name"] == installation["client_name"]
        webhooks = read.json()["capabilities"]["webhooks"]
        assert all(not hook.get("headers") for key, hook in webhooks.items() if key != "retry")
        rotated = client.post(f"{INSTALLATIONS}/{client_id}/secret")
        assert rotated.status_code == 200, rotated.text
        audit = client.get(f"{INSTALLATIONS}/{client_id}/audit").json()
        assert any(event["action"] == "reset_secret" for event in audit)
