"""Start-up failures: one or two lines naming the setting by its environment variable and the fix, exit code 2,
no traceback (unless --debug), for serve, worker and the commands that open the store."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appinstall.cli import app
from tests.conftest import TEST_MASTER_KEY
from tests.live_server import free_port, live_server

runner = CliRunner()
COMMANDS = [["serve"], ["worker"], ["db", "upgrade"], ["accounts", "list"]]


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("APPINSTALL_DATABASE_URL", "APPINSTALL_OPERATOR_TOKEN", "APPINSTALL_DEV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APPINSTALL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("APPINSTALL_MASTER_KEY", TEST_MASTER_KEY)
    # Never a host to listen on: a `serve` that got past the check under test fails at once, not serves for ever.
    monkeypatch.setenv("APPINSTALL_HOST", "256.0.0.1")
    return tmp_path


def _refused(arguments: list[str], **env: str) -> list[str]:
    """The lines a command printed on refusing to start; it must exit 2 without a traceback."""
    result = runner.invoke(app, arguments, env=env)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, lines
    assert all(line.startswith("error: ") for line in lines)
    return lines


BAD_SETTINGS = {
    "ttl-out-of-range": (
        "APPINSTALL_TOKEN_TTL_SECONDS",
        "6",
        "APPINSTALL_TOKEN_TTL_SECONDS=6: Input should be greater than or equal to 60; allowed: an integer, 60 to 86400",
    ),
    "dev-not-boolean": ("APPINSTALL_DEV", "maybe", "APPINSTALL_DEV=maybe: Input should be a valid boolean"),
    "cidrs-not-json": (
        "APPINSTALL_WEBHOOK_ALLOW_CIDRS",
        "10.0.0.0/8",
        'APPINSTALL_WEBHOOK_ALLOW_CIDRS cannot be read: it must be a JSON list of CIDRs, e.g. ["10.1.0.0/16"]',
    ),
    "port-out-of-range": (
        "APPINSTALL_PORT",
        "99999",
        "APPINSTALL_PORT=99999: Input should be less than or equal to 65535; allowed: an integer, 1 to 65535",
    ),
    "lease-too-short": (
        "APPINSTALL_WEBHOOK_LEASE_SECONDS",
        "5",
        "APPINSTALL_WEBHOOK_LEASE_SECONDS (5) must be longer than APPINSTALL_WEBHOOK_TIMEOUT_SECONDS (10)",
    ),
    "url-scheme": (
        "APPINSTALL_DATABASE_URL",
        "mysql://u@db/x",
        "APPINSTALL_DATABASE_URL=mysql://u@db/x: scheme 'mysql' is not supported",
    ),
    "key-not-base64": ("APPINSTALL_MASTER_KEY", "not base64!", "master key 1 is not valid base64"),
    "key-too-short": ("APPINSTALL_MASTER_KEY", "YWJj", "APPINSTALL_MASTER_KEY: a master key must be 32 bytes, not 3"),
}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
@pytest.mark.parametrize(("variable", "value", "expected"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_a_bad_setting_is_one_line_under_its_variable_with_what_it_allows(
    environment: Path, command: list[str], variable: str, value: str, expected: str
) -> None:
    [line] = _refused(command, **{variable: value})
    assert expected in line


def test_a_master_key_is_never_echoed_in_its_error(environment: Path) -> None:
    [line] = _refused(["db", "upgrade"], APPINSTALL_MASTER_KEY="c2VjcmV0LW1hc3Rlci1rZXk=")
    assert "c2VjcmV0LW1hc3Rlci1rZXk" not in line


def test_debug_adds_the_traceback(environment: Path) -> None:
    result = runner.invoke(app, ["--debug", "db", "upgrade"], env={"APPINSTALL_TOKEN_TTL_SECONDS": "6"})
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "APPINSTALL_TOKEN_TTL_SECONDS=6" in result.stderr


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_plain_postgresql_url_means_the_asyncpg_driver(
    environment: Path, postgres_database: str, scheme: str
) -> None:
    url = postgres_database.replace("postgresql+asyncpg", scheme, 1)
    result = runner.invoke(app, ["db", "upgrade"], env={"APPINSTALL_DATABASE_URL": url})
    assert result.exit_code == 0, result.output


def test_a_database_that_does_not_exist_says_how_to_create_it(environment: Path, postgres_database: str) -> None:
    url = postgres_database.rsplit("/", 1)[0] + "/appinstall_no_such_database"
    first, second = _refused(["worker"], APPINSTALL_DATABASE_URL=url)
    assert 'database "appinstall_no_such_database" does not exist' in first and "APPINSTALL_DATABASE_URL" in first
    assert "createdb" in second


def test_an_unreachable_database_names_the_url_without_its_password(environment: Path) -> None:
    url = f"postgresql://app:hunter2@127.0.0.1:{free_port()}/appinstall"
    first, second = _refused(["db", "upgrade"], APPINSTALL_DATABASE_URL=url)
    assert "cannot open the database at postgresql+asyncpg://app:***@127.0.0.1" in first
    assert "hunter2" not in first + second and "host and port" in second


def test_an_unusable_data_folder_names_appinstall_data_dir(environment: Path) -> None:
    (environment / "file").write_text("")
    [line] = _refused(["db", "upgrade"], APPINSTALL_DATA_DIR=str(environment / "file" / "data"))
    assert "cannot open the SQLite store" in line and "APPINSTALL_DATA_DIR" in line


def _serve(data_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "APPINSTALL_DATA_DIR": str(data_dir), "APPINSTALL_MASTER_KEY": TEST_MASTER_KEY}
    return subprocess.run(
        [sys.executable, "-m", "appinstall", "serve", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_port_in_use_is_one_line_and_serve_never_says_it_serves(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve(tmp_path, port)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use by another process: stop it, or choose another port with "
        "--port or APPINSTALL_PORT"
    )


def test_a_second_serve_on_the_same_sqlite_folder_is_refused(tmp_path: Path) -> None:
    with live_server(tmp_path) as first:
        result = _serve(tmp_path, free_port())
        assert first.process.poll() is None
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert f"already uses the SQLite store {tmp_path / 'appinstall.db'}" in line
    assert "APPINSTALL_DATA_DIR" in line and "serving on" not in result.stderr


def test_serve_starts_again_on_the_folder_once_the_first_has_stopped(tmp_path: Path) -> None:
    with live_server(tmp_path):
        pass
    with live_server(tmp_path) as second:
        assert second.process.poll() is None


def test_a_worker_metrics_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PATH": "/usr/bin:/bin", "APPINSTALL_DATA_DIR": str(tmp_path), "APPINSTALL_MASTER_KEY": TEST_MASTER_KEY}
        result = subprocess.run(
            [sys.executable, "-m", "appinstall", "worker", "--metrics-port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert f"cannot serve metrics on 127.0.0.1 port {port}" in line and "APPINSTALL_WORKER_METRICS_PORT" in line
