"""The command line, run in process through Typer's runner: exit codes, formats and stdin."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appinstall import __version__
from appinstall.cli import app
from appinstall.manifest.schema import manifest_schema_text
from tests.conftest import SEED_PATH

runner = CliRunner()


@pytest.fixture
def invalid_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"client_name": "x", "scpoe": "msg.consumer", "logo_uri": "ftp://x"}))
    return path


def test_a_valid_manifest_exits_zero_and_says_valid_then_how_each_webhook_is_retried() -> None:
    result = runner.invoke(app, ["validate", str(SEED_PATH)])
    assert result.exit_code == 0
    endpoint = "https://your/webhooks/endpoint"
    assert result.output.splitlines() == [
        f"{SEED_PATH}: valid",
        f"{SEED_PATH}: retries ContentEvent → {endpoint}: up to 3 retries",
        f"{SEED_PATH}: retries RichContentEvent → {endpoint}: up to 5 retries",
        f"{SEED_PATH}: retries AcceptStatusEvent → {endpoint}: up to 1 retry",
        f"{SEED_PATH}: retries ChatStateEvent → {endpoint}: no retries (max_retries defaults to 0)",
        f"{SEED_PATH}: retries ExConversationChangeNotification → {endpoint}: no retries (max_retries defaults to 0)",
    ]


def test_retention_mode_is_explained_per_webhook(tmp_path: Path) -> None:
    path = tmp_path / "retention.json"
    hooks = {
        "retry": {"retention_time": 3600},
        "ms.MessagingEventNotification.ContentEvent": {"endpoint": "https://a.example/hook"},
        "ms.MessagingEventNotification.ChatStateEvent": {"endpoint": "https://a.example/hook", "max_retries": 0},
    }
    path.write_text(json.dumps({"client_name": "x", "capabilities": {"webhooks": hooks}}))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    assert result.output.splitlines()[1:] == [
        f"{path}: retries ContentEvent → https://a.example/hook: retried for 1 h (retention mode, backoff 2 s … 5 min)",
        f"{path}: retries ChatStateEvent → https://a.example/hook: "
        "max_retries 0 in retention mode: not retried, dropped on failure",
    ]


def test_an_invalid_manifest_gets_no_retry_lines(invalid_file: Path) -> None:
    assert "retries" not in runner.invoke(app, ["validate", str(invalid_file)]).output


def test_a_manifest_saved_from_a_read_is_valid_with_a_warning_per_server_field(tmp_path: Path) -> None:
    path = tmp_path / "read.json"
    path.write_text(json.dumps({"id": "abc", "client_name": "x", "client_secret": "s3cret", "$schema": "x"}))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == [
        f"{path}: warning /id: is set by the server; ignored in a manifest (server_field) "
        "hint: remove it from the file; the server keeps its own value",
        f"{path}: warning /client_secret: is set by the server; ignored in a manifest (server_field) "
        "hint: remove it from the file; the server keeps its own value",
    ]
    assert "s3cret" not in result.output


def test_an_invalid_manifest_exits_one_with_a_line_per_problem(invalid_file: Path) -> None:
    result = runner.invoke(app, ["validate", str(invalid_file)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{invalid_file}: error /logo_uri: ")
    assert lines[1] == (
        f"{invalid_file}: error /scpoe: 'scpoe' is not a known key here (unknown_key) hint: did you mean 'scope'?"
    )


@pytest.fixture
def local_http_file(tmp_path: Path) -> Path:
    path = tmp_path / "local.json"
    webhook = {"ms.MessagingEventNotification.ContentEvent": {"endpoint": "http://127.0.0.1:9000/hook"}}
    path.write_text(json.dumps({"client_name": "x", "capabilities": {"webhooks": webhook}}))
    return path


def test_a_webhook_to_this_machine_over_http_is_refused_without_dev(local_http_file: Path) -> None:
    result = runner.invoke(app, ["validate", str(local_http_file)])
    assert result.exit_code == 1
    assert "(invalid_url)" in result.output and "appinstall validate --dev" in result.output


def test_a_webhook_to_this_machine_over_http_is_valid_with_dev_as_a_dev_server_accepts_it(
    local_http_file: Path,
) -> None:
    result = runner.invoke(app, ["validate", "--dev", str(local_http_file)])
    assert result.exit_code == 0, result.output


def test_broken_json_exits_one(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"client_name": ')
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "error /: is not valid JSON" in result.output and "line 1, column 17" in result.output


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2


def test_no_file_at_all_is_a_usage_error() -> None:
    assert runner.invoke(app, ["validate"]).exit_code == 2


def test_a_dash_reads_standard_input() -> None:
    result = runner.invoke(app, ["validate", "-"], input=SEED_PATH.read_bytes())
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "<stdin>: valid"


def test_json_format_for_one_file_is_one_object(invalid_file: Path) -> None:
    result = runner.invoke(app, ["validate", "--format", "json", str(invalid_file)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["valid"] is False and report["warnings"] == []
    assert [(e["pointer"], e["code"]) for e in report["errors"]] == [
        ("/logo_uri", "invalid_url"),
        ("/scpoe", "unknown_key"),
    ]
    assert set(report["errors"][0]) == {"pointer", "code", "message", "hint"}


def test_json_format_for_several_files_is_a_list_naming_each(invalid_file: Path) -> None:
    result = runner.invoke(app, ["validate", "-f", "json", str(SEED_PATH), str(invalid_file)])
    assert result.exit_code == 1
    reports = json.loads(result.output)
    assert [(r["file"], r["valid"]) for r in reports] == [(str(SEED_PATH), True), (str(invalid_file), False)]


def test_warnings_are_printed_and_do_not_fail(tmp_path: Path) -> None:
    path = tmp_path / "legacy.json"
    hooks = {"ms.MessagingEventNotification.ExConversationChangeNotification": {"endpoint": "https://a.example"}}
    path.write_text(json.dumps({"client_name": "x", "capabilities": {"webhooks": hooks}}))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    assert (
        "warning /capabilities/webhooks/ms.MessagingEventNotification.ExConversationChangeNotification" in result.output
    )


def test_one_invalid_file_among_valid_ones_fails_the_run(invalid_file: Path) -> None:
    assert runner.invoke(app, ["validate", str(SEED_PATH), str(invalid_file), str(SEED_PATH)]).exit_code == 1


def test_schema_prints_the_published_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert result.output == manifest_schema_text()


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.output) == (0, f"appinstall {__version__}\n")


def test_the_module_entry_point_runs_as_a_real_process(invalid_file: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "appinstall", "validate", str(invalid_file)], capture_output=True, check=False
    )
    assert completed.returncode == 1
    assert b"/scpoe" in completed.stdout
