"""``appinstall init``: a starter manifest from flags or answers, that ``appinstall validate`` accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from appinstall.cli import app
from appinstall.manifest.schema import SCHEMA_ID
from appinstall.manifest.vocabulary import EVENT_TYPES, short_event_name

runner = CliRunner()
CONTENT = "ms.MessagingEventNotification.ContentEvent"
CONVERSATION = "cqm.ExConversationChangeNotification"
FLAGS = ("--name", "Acme bridge", "--endpoint", "https://acme.example/hooks")

# "ContentEvent, RichContentEvent, …": every event type, as the error lists them
SHORT_NAMES = ", ".join(short_event_name(name) for name in EVENT_TYPES)


def init(path: Path, *options: str, answers: str | None = None) -> Result:
    return runner.invoke(app, ["init", str(path), *options], input=answers)


def written(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_the_written_manifest_validates_once_its_schema_key_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    assert init(path, *FLAGS).exit_code == 0
    document = written(path)
    del document["$schema"]
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(document))
    result = runner.invoke(app, ["validate", str(plain)])
    assert result.exit_code == 0, result.output


def test_the_manifest_points_editors_at_the_published_schema(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    init(path, *FLAGS)
    assert written(path)["$schema"] == SCHEMA_ID


def test_flags_give_the_name_and_one_content_webhook_by_default(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    result = init(path, *FLAGS)
    assert result.exit_code == 0, result.output
    assert written(path)["client_name"] == "Acme bridge"
    assert written(path)["capabilities"] == {
        "webhooks": {CONTENT: {"endpoint": "https://acme.example/hooks", "max_retries": 3}}
    }
    assert result.stdout.splitlines() == [
        f"wrote {path}: Acme bridge, webhooks for ContentEvent to https://acme.example/hooks",
        f"next: appinstall validate {path}, then appinstall apply {path}",
    ]


def test_a_local_http_endpoint_is_written_and_the_next_step_names_dev_mode(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    result = init(path, "--name", "Local app", "--endpoint", "http://127.0.0.1:9000/hook")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"next: appinstall validate --dev {path}, then appinstall apply {path} (to a server run with --dev)"
    )


def test_without_flags_it_asks_for_the_name_and_the_endpoint(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    result = init(path, answers="Asked app\nhttps://asked.example/hooks\n")
    assert result.exit_code == 0, result.output
    assert "App name: " in result.stdout and "Webhook endpoint (https://…): " in result.stdout
    assert written(path)["client_name"] == "Asked app"
    assert written(path)["capabilities"]["webhooks"][CONTENT]["endpoint"] == "https://asked.example/hooks"


def test_the_path_defaults_to_manifest_json_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", *FLAGS]).exit_code == 0
    assert written(tmp_path / "manifest.json")["client_name"] == "Acme bridge"


def test_events_are_taken_by_short_or_full_name_in_any_case_once_each(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    result = init(
        path, *FLAGS, "--event", "exconversationchangenotification", "--event", CONTENT, "--event", "contentevent"
    )
    assert result.exit_code == 0, result.output
    assert list(written(path)["capabilities"]["webhooks"]) == [CONVERSATION, CONTENT]


def test_retention_replaces_the_retry_count_with_the_retention_policy(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    assert init(path, *FLAGS, "--retention", "3600").exit_code == 0
    assert written(path)["capabilities"]["webhooks"] == {
        CONTENT: {"endpoint": "https://acme.example/hooks"},
        "retry": {"retention_time": 3600},
    }


def test_an_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text("mine")
    result = init(path, *FLAGS)
    assert result.exit_code == 1
    assert result.stderr == f"error: {path} already exists; pass --force to overwrite it\n"
    assert path.read_text() == "mine"


def test_force_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text("mine")
    assert init(path, *FLAGS, "--force").exit_code == 0
    assert written(path)["client_name"] == "Acme bridge"


def test_an_unknown_event_is_one_line_that_lists_the_event_types(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    result = init(path, *FLAGS, "--event", "Typing")
    assert result.exit_code == 2
    assert result.stderr == f"error: --event: 'Typing' is not an event type; use one of {SHORT_NAMES}\n"
    assert not path.exists()


def test_an_invalid_answer_is_reported_as_validate_would_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    result = init(path, "--name", "Acme", "--endpoint", "ftp://acme.example/hooks")
    assert result.exit_code == 1
    assert f"{path}: error /capabilities/webhooks/{CONTENT}/endpoint: must be an absolute URL" in result.stderr
    assert not path.exists()


def test_a_retention_out_of_range_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    result = init(path, *FLAGS, "--retention", "1")
    assert result.exit_code == 1
    assert "/capabilities/webhooks/retry/retention_time" in result.stderr
    assert not path.exists()
