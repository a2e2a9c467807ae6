"""A bad APPINSTALL_* value stops a command at start-up: exit 2, one line per problem naming the variable."""

from __future__ import annotations

from typer.testing import CliRunner

from appinstall.cli import app

runner = CliRunner()


def test_bad_settings_are_each_named_on_one_line_and_exit_2() -> None:
    environment = {"APPINSTALL_ALLOWED_HOSTS": '["https://api.example.com"]', "APPINSTALL_TRUSTED_PROXIES": '["x"]'}
    result = runner.invoke(app, ["serve"], env=environment)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: APPINSTALL_ALLOWED_HOSTS: ")
    assert "is not a host or host:port" in lines[0]
    assert lines[1].startswith("error: APPINSTALL_TRUSTED_PROXIES: ")
    assert "Traceback" not in result.output
