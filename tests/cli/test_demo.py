"""``appinstall demo``: what it expects to hear (pure), and the command as a real process on a fresh data dir."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from appinstall.cli.demo_steps import (
    ACCEPTED,
    MESSAGE,
    OPENED,
    READ,
    REPLY,
    SEED_MANIFEST,
    STEPS,
    TYPING,
    Arrival,
    Credentials,
    demo_manifest,
    missing_steps,
    next_steps,
    signed_both_ways,
    step_of,
)
from appinstall.connector import Notification, parse
from appinstall.manifest import validate_manifest
from appinstall.sandbox.notifications import Conversation, conversation_upsert, messaging
from appinstall.webhooks.envelope import encode
from tests.live_server import free_port

CONVERSATION = "0b6f0f52-9c55-4a0c-9d43-1b0b0c7d1e2f"
OPEN = Conversation(CONVERSATION, "demo", "consumer-1", "OPEN", "-1", 1, 1)


def notified(document: dict[str, Any]) -> Notification:
    return parse(encode(document))


def said(role: str, event: dict[str, Any], conversation: str = CONVERSATION) -> Notification:
    return notified(messaging(conversation, "someone", role, event, 0, 1))


def text(message: str) -> dict[str, Any]:
    return {"type": "ContentEvent", "message": message, "contentType": "text/plain"}


THE_WHOLE_EXCHANGE = [
    notified(conversation_upsert(OPEN)),
    said("CONSUMER", text("hello")),
    notified(conversation_upsert(Conversation(CONVERSATION, "demo", "consumer-1", "OPEN", "-1", 1, 2, agent_id="a"))),
    said("ASSIGNED_AGENT", {"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0]}),
    said("ASSIGNED_AGENT", {"type": "ChatStateEvent", "chatState": "COMPOSING"}),
    said("ASSIGNED_AGENT", text("hello")),
]


# --- The manifest --------------------------------------------------------------------------------------------


def test_every_webhook_of_the_example_manifest_is_pointed_at_the_receiver() -> None:
    _, document = demo_manifest(SEED_MANIFEST.read_bytes(), "http://127.0.0.1:41234/")
    endpoints = {webhook["endpoint"] for webhook in document["capabilities"]["webhooks"].values()}
    assert endpoints == {"http://127.0.0.1:41234/"}


def test_the_bytes_sent_are_the_manifest_that_apply_compares() -> None:
    data, document = demo_manifest(SEED_MANIFEST.read_bytes(), "http://127.0.0.1:41234/")
    sent = validate_manifest(data, allow_local_http=True).manifest
    assert sent is not None and sent.to_document() == document


# --- What it waits for ---------------------------------------------------------------------------------------


def test_each_notification_of_the_exchange_is_recognised_in_order() -> None:
    assert [step_of(n.changes[0], "hello") for n in THE_WHOLE_EXCHANGE] == [
        OPENED,
        MESSAGE,
        ACCEPTED,
        READ,
        TYPING,
        REPLY,
    ]


def test_a_reply_with_other_words_is_not_the_echo() -> None:
    assert step_of(said("ASSIGNED_AGENT", text("something else")).changes[0], "hello") is None


def test_a_closed_conversation_is_not_an_expected_step() -> None:
    closed = Conversation(CONVERSATION, "demo", "consumer-1", "CLOSE", "-1", 1, 2, ended_at=2, close_reason="AGENT")
    assert step_of(notified(conversation_upsert(closed)).changes[0], "hello") is None


def test_nothing_is_missing_once_the_whole_exchange_arrived_signed() -> None:
    arrivals = [Arrival(n, signed_both_ways=True) for n in THE_WHOLE_EXCHANGE]
    assert missing_steps(arrivals, CONVERSATION, "hello") == []


def test_a_notification_without_both_signatures_does_not_count() -> None:
    arrivals = [Arrival(n, signed_both_ways=n is not THE_WHOLE_EXCHANGE[3]) for n in THE_WHOLE_EXCHANGE]
    assert missing_steps(arrivals, CONVERSATION, "hello") == [READ]


def test_notifications_of_another_conversation_do_not_count() -> None:
    elsewhere = [Arrival(said("CONSUMER", text("hello"), conversation="another"), signed_both_ways=True)]
    assert missing_steps(elsewhere, CONVERSATION, "hello") == list(STEPS)


def test_both_signature_headers_are_needed_in_any_case() -> None:
    both = {"X-LivePerson-Signature": "sha1=…", "Webhook-Signature": "v1,…", "webhook-id": "msg_1"}
    assert (signed_both_ways(both), signed_both_ways({"x-liveperson-signature": "sha1=…"})) == (True, False)


def test_the_next_steps_carry_the_demos_credentials_and_conversation() -> None:
    credentials = Credentials("http://127.0.0.1:8080", "demo", "aik_k", "cid", "s3cret", "demo-consumer", CONVERSATION)
    shown = next_steps(credentials)
    for value in ("APPINSTALL_SERVER=http://127.0.0.1:8080", "APPINSTALL_KEY=aik_k", "=s3cret", CONVERSATION):
        assert value in shown


# --- The command, as a process -------------------------------------------------------------------------------


def run_demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``appinstall demo --once`` on a free port, with no APPINSTALL_* setting of the developer's leaking in."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("APPINSTALL_")}
    return subprocess.run(
        [sys.executable, "-m", "appinstall", "demo", "--once", "--port", str(free_port()), "--data-dir", str(data_dir)],
        env=environment,
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo") / "data"


@pytest.fixture(scope="module")
def first_run(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_demo(data_dir)


def conversation_of(output: str) -> str:
    found = re.search(r"ConversationChange (\S+) -\s+UPSERT OPEN\n", output)
    assert found, output
    return found.group(1)


def test_the_demo_exits_zero_on_a_fresh_data_dir(first_run: subprocess.CompletedProcess[str]) -> None:
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr


def test_the_demo_says_every_notification_arrived_with_both_signatures_verified(
    first_run: subprocess.CompletedProcess[str],
) -> None:
    assert "All 6 notifications arrived, both signatures verified" in first_run.stdout


@pytest.mark.parametrize(
    "line",
    [
        'ContentEvent       {conversation} CONSUMER       "hello"',
        "ConversationChange {conversation} -              UPSERT OPEN agent echo-agent",
        "AcceptStatusEvent  {conversation} ASSIGNED_AGENT READ sequence 0",
        "ChatStateEvent     {conversation} ASSIGNED_AGENT COMPOSING",
        'ContentEvent       {conversation} ASSIGNED_AGENT "hello"',
    ],
    ids=["consumer message", "agent accept UPSERT", "READ", "COMPOSING", "agent reply"],
)
def test_the_demo_prints_each_notification_of_the_conversation(
    first_run: subprocess.CompletedProcess[str], line: str
) -> None:
    assert line.format(conversation=conversation_of(first_run.stdout)) in first_run.stdout


def test_the_demo_keeps_its_store_in_the_data_dir(first_run: subprocess.CompletedProcess[str], data_dir: Path) -> None:
    assert (data_dir / "appinstall.db").exists()
    assert (data_dir / "master.key").exists()


def test_running_the_demo_again_on_the_same_data_dir_reuses_the_installation(
    first_run: subprocess.CompletedProcess[str], data_dir: Path
) -> None:
    installed = re.search(r'"App name" installed from the example manifest, id (\S+)', first_run.stdout)
    assert installed, first_run.stdout
    again = run_demo(data_dir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f'"App name" updated from the example manifest, id {installed.group(1)}' in again.stdout
